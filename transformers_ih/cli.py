"""Command line: ``python -m transformers_ih "text" --model PATH_OR_HUB_ID [--target LABEL] [--json out.json]``.

Prints the prediction, the top attributed words and the top interacting pairs.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_MODEL = "distilbert-base-uncased-finetuned-sst-2-english"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m transformers_ih",
        description="Explain a sequence classifier's prediction with word attributions (Integrated Gradients) "
        "and word-pair interactions (Integrated Hessians).",
    )
    p.add_argument("text", help="the text to explain")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"local path or hub id (default: {DEFAULT_MODEL})")
    p.add_argument("--target", default=None, help="label name or index to explain (default: the predicted label)")
    p.add_argument("--output", default="logit", choices=["logit", "probability", "log_probability"])
    p.add_argument("--steps", type=int, default=None, help="fixed number of path points (default: adaptive)")
    p.add_argument("--rtol", type=float, default=1e-3, help="adaptive rule's completeness tolerance, relative")
    p.add_argument("--no-interactions", action="store_true", help="attributions only (faster)")
    p.add_argument("--top", type=int, default=5, help="how many words and pairs to print")
    p.add_argument("--json", metavar="PATH", help="also write the explanation as JSON")
    p.add_argument("--html", metavar="PATH", help="also write the HTML report")
    return p.parse_args(argv)


def load(model_name: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name)
        model = AutoModelForSequenceClassification.from_pretrained(model_name)
    except (OSError, ValueError) as err:
        raise SystemExit(
            f"error: could not load the model {model_name!r} ({type(err).__name__}: {str(err).splitlines()[0]}).\n"
            f"Without network access the hub model cannot be downloaded: pass a local model directory with "
            f"--model PATH (or a hub id that is in your cache)."
        ) from None
    return model, tokenizer


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .explainers import SequenceClassificationInteractionExplainer

    model, tokenizer = load(args.model)
    target = int(args.target) if args.target is not None and args.target.isdigit() else args.target
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer, rtol=args.rtol)
    try:
        explanation = explainer(args.text, target, output=args.output, steps=args.steps,
                                interactions=not args.no_interactions)
    except (ValueError, TypeError) as err:
        raise SystemExit(f"error: {err}") from None
    print(explanation.summary(args.top))
    if args.json:
        explanation.to_json(args.json, indent=1)
        print(f"wrote {args.json}")
    if args.html:
        explanation.save_html(args.html)
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
