"""Command line: ``python -m transformers_ih "text" --model PATH_OR_HUB_ID [--target LABEL] [--json out.json]``.

Prints the prediction, the top attributed words and the top interacting pairs.

Dataset mode: ``python -m transformers_ih --dataset FILE_OR_HUB_ID --column sentence --output-dir DIR
[--engine ray]`` explains every row (:func:`~transformers_ih.explain_dataset`), resumes when run again, and prints
where the results went and the corpus's strongest word pairs.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, cast

from .results.validation import ESTIMATORS, INTEGRATED_HESSIANS

if TYPE_CHECKING:
    from .results.explanation import Explanation

DEFAULT_MODEL = "distilbert-base-uncased-finetuned-sst-2-english"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m transformers_ih",
        description="Explain a sequence classifier's prediction with word attributions (Integrated Gradients) "
        "and word-pair interactions (Integrated Hessians).",
    )
    p.add_argument("text", nargs="?", help="the text to explain (or --dataset)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"local path or hub id (default: {DEFAULT_MODEL})")
    p.add_argument("--target", default=None, help="label name or index to explain (default: the predicted label)")
    p.add_argument("--output", default="logit", choices=["logit", "probability", "log_probability"])
    p.add_argument("--steps", type=int, default=None, help="fixed number of path points (default: adaptive)")
    p.add_argument("--rtol", type=float, default=1e-3, help="adaptive rule's completeness tolerance, relative")
    p.add_argument("--no-interactions", action="store_true", help="attributions only (faster)")
    p.add_argument(
        "--estimator",
        default=INTEGRATED_HESSIANS,
        choices=ESTIMATORS,
        help="Integrated Hessians (default) or a Shapley interaction index of shapiq "
        "(pip install 'transformers-ih[shapley]')",
    )
    p.add_argument("--budget", type=int, default=None, help="shapiq index: coalitions evaluated (default: 4096)")
    p.add_argument("--seed", type=int, default=None, help="shapiq index: random seed (default: 0)")
    p.add_argument("--no-check", action="store_true", help="skip the removal check of the strongest pairs")
    p.add_argument("--top", type=int, default=5, help="how many words and pairs to print")
    p.add_argument("--json", metavar="PATH", help="also write the explanation as JSON")
    p.add_argument("--html", metavar="PATH", help="also write the HTML report (dataset mode: the corpus report)")
    d = p.add_argument_group("dataset mode", "explain every row of a dataset; run again to resume")
    d.add_argument(
        "--dataset",
        metavar="FILE_OR_HUB_ID",
        help="a .csv/.tsv/.json/.jsonl/.parquet/.arrow file, a save_to_disk folder, or a hub dataset id "
        "(a config as NAME:CONFIG, e.g. glue:sst2)",
    )
    d.add_argument("--column", default="sentence", help="the text column (default: sentence)")
    d.add_argument("--split", default=None, help="the split of a hub dataset or DatasetDict (e.g. validation)")
    d.add_argument("--output-dir", metavar="DIR", help="where results are written, shard by shard (resumable)")
    d.add_argument("--format", default="parquet", choices=["parquet", "arrow"], help="shard file format")
    d.add_argument("--batch-size", type=int, default=32, help="rows per shard (one explainer call, one file)")
    d.add_argument("--limit", type=int, default=None, help="only the first N rows")
    d.add_argument("--engine", default="local", choices=["local", "ray"], help="where to run (default: local)")
    d.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to connect to (default: $RAY_ADDRESS, else a local cluster started here)",
    )
    d.add_argument("--workers", type=int, default=None, help="Ray actors (default: one per CPU, or per GPU)")
    d.add_argument("--min-count", type=int, default=2, help="corpus pairs: seen at least this many times")
    args = p.parse_args(argv)
    if (args.text is None) == (args.dataset is None):
        p.error("give a text to explain, or --dataset (not both)")
    if args.dataset is not None and not args.output_dir:
        p.error("--dataset needs --output-dir (results are written there as they are made; run again to resume)")
    check_args(args)
    return args


# option -> (smallest value accepted, what it is)
_AT_LEAST = {
    "top": (0, "how many words and pairs to print"),
    "steps": (1, "the number of path points"),
    "batch_size": (1, "rows per shard"),
    "limit": (0, "how many rows to explain"),
    "workers": (1, "Ray actors"),
    "min_count": (0, "how many times a pair must be seen"),
}


def check_args(args: argparse.Namespace) -> None:
    """Everything checkable before the model loads: numbers in range and output paths writable (a file for
    ``--json`` / ``--html`` in an existing folder, a folder for ``--output-dir``); ``SystemExit`` with a one-line
    ``error: ...`` naming the option otherwise."""
    from .results.paths import check_output_file, check_output_folder

    for name, (least, what) in _AT_LEAST.items():
        value = getattr(args, name, None)
        if value is not None and value < least:
            raise SystemExit(f"error: --{name.replace('_', '-')} {value}: {what}, an integer >= {least}")
    if not args.rtol > 0:
        raise SystemExit(f"error: --rtol {args.rtol}: the relative tolerance must be a number > 0")
    try:
        for option in ("json", "html"):
            if getattr(args, option) is not None:
                check_output_file(getattr(args, option), f"--{option}")
        if args.output_dir is not None:
            check_output_folder(args.output_dir, "--output-dir")
    except (ValueError, TypeError) as err:
        raise SystemExit(f"error: {err}") from None


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


def estimator_options(args) -> dict:
    """The call options of ``--estimator``, ``--budget``, ``--seed`` and ``--no-check``; only those changed from
    their defaults (a dataset run's configuration stays that of earlier runs otherwise)."""
    options: dict = {}
    if args.estimator != INTEGRATED_HESSIANS:
        options["estimator"] = args.estimator
    if args.budget is not None:
        options["budget"] = args.budget
    if args.seed is not None:
        options["seed"] = args.seed
    if args.no_check:
        options["check"] = False
    return options


def run_dataset(args, explainer, target) -> int:
    """Dataset mode: explain every row into ``--output-dir`` (resuming), print where it went and the top pairs."""
    from .corpus import CorpusInteractions, RayEngine, explain_dataset
    from .corpus.inputs import load_input

    try:
        dataset = load_input(args.dataset, split=args.split)
        if args.limit is not None:
            dataset = (
                dataset.select(range(min(args.limit, len(dataset))))
                if hasattr(dataset, "__len__")
                else dataset.take(args.limit)
            )
        engine = RayEngine(args.ray_address, workers=args.workers) if args.engine == "ray" else "local"
        kwargs = {} if target is None else {"target": target}
        out = explain_dataset(
            explainer,
            dataset,
            args.column,
            output_dir=args.output_dir,
            engine=engine,
            batch_size=args.batch_size,
            format=args.format,
            output=args.output,
            steps=args.steps,
            interactions=not args.no_interactions,
            **kwargs,
            **estimator_options(args),
        )
    except (ValueError, TypeError, FileNotFoundError, ImportError, RuntimeError) as err:
        raise SystemExit(f"error: {err}") from None
    print(
        f"explained {len(out)} rows; results in {args.output_dir} ({args.format} shards under "
        f"{args.output_dir}/shards, manifest.json; load with transformers_ih.corpus.read_output)"
    )
    if args.engine == "ray":
        stats = cast(RayEngine, engine).stats  # the Ray engine made above
        print(f"engine: Ray, {len({s['worker'] for s in stats})} worker(s) explained {len(stats)} new shard(s)")
    if args.no_interactions:
        return 0
    corpus = CorpusInteractions.from_explanations(out)
    print(corpus.summary(args.top, min_count=args.min_count))
    if args.html:
        corpus.save_html(args.html, min_count=args.min_count)
        print(f"wrote {args.html}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line; every refusal and failure is one line ``error: ...`` and a non-zero exit (never a
    traceback)."""
    try:
        return _main(argv)
    except (ValueError, TypeError, OSError, ImportError, RuntimeError, KeyError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        raise SystemExit(f"error: {message}") from None


def _main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .tasks import SequenceClassificationInteractionExplainer

    model, tokenizer = load(args.model)
    target = int(args.target) if args.target is not None and args.target.isdigit() else args.target
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer, rtol=args.rtol)
    if args.dataset is not None:
        return run_dataset(args, explainer, target)
    try:
        explanation = cast(
            "Explanation",
            explainer(
                args.text,
                target,
                output=args.output,
                steps=args.steps,
                interactions=not args.no_interactions,
                **estimator_options(args),
            ),
        )  # one text: one result
    except (ValueError, TypeError, ImportError) as err:
        raise SystemExit(f"error: {err}") from None
    print(explanation.summary(args.top))
    if explanation.estimator != INTEGRATED_HESSIANS:
        facts = explanation.meta.get("shapley", {})
        print(
            f"estimator: {explanation.estimator} ({'exact' if facts.get('exact') else 'sampled'}, "
            f"{facts.get('coalitions')} coalitions; {'efficient' if facts.get('efficient') else 'not efficient'})"
        )
    if explanation.removal_check is not None:
        from .visualize.removal import agreement_words

        print(f"removal check: {agreement_words(explanation.removal_check)}")
    if args.json:
        explanation.to_json(args.json, indent=1)
        print(f"wrote {args.json}")
    if args.html:
        explanation.save_html(args.html)
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
