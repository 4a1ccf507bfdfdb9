"""Target: a 23-word SST-2 dev sentence, attributions + the full interaction matrix at the default tolerance
(rtol 1e-3 relative completeness), real model, this CPU. Times the default explainer end to end (median of
``repeats`` calls after a warm-up), with and without the coarsening of the final rule (same search, same
tolerance), and the default rule at rtol 1e-2 / 1e-3 / 1e-4: path points, scalar evaluations, time, relative
completeness error.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "target_23_words"


def timed_explanation(explainer, sentence: str, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        e = explainer(sentence)
        times.append(time.perf_counter() - t0)
    return {
        "time_s": statistics.median(times),
        "times_s": times,
        "path_points": e.steps,
        "scalar_evaluations": e.meta["scalar_evaluations"],
        "words": len(e.words),
        "tokens": len(e.tokens),
        "completeness_error": e.completeness_error,
        "relative_error": e.completeness_error / abs(e.delta),
    }


def main(argv=None):
    args = common.parse_args(__doc__.splitlines()[0], argv)
    cfg = dict(words=23, repeats=1 if args.quick else 3, rtols=[1e-2, 1e-3] if args.quick else [1e-2, 1e-3, 1e-4])
    rec = common.Recorder(NAME, args, **cfg)
    from transformers_ih import SequenceClassificationInteractionExplainer
    from transformers_ih.engine.adaptive import AdaptiveRefiner

    model, tok = common.load_real_model()
    sentence = common.sentence_with_words(tok, [s for _, s in common.dev_sentences()], cfg["words"])
    rec["sentence"] = sentence
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False)
    explainer(sentence, steps=1)  # warm-up
    rec["default"] = timed_explanation(explainer, sentence, cfg["repeats"])
    common.log(NAME, f"default: {rec['default']}")
    saved = AdaptiveRefiner.COARSEN_MIN_NODE_COST
    AdaptiveRefiner.COARSEN_MIN_NODE_COST = float("inf")  # the same search without the coarsening step
    try:
        rec["without_coarsening"] = timed_explanation(explainer, sentence, cfg["repeats"])
    finally:
        AdaptiveRefiner.COARSEN_MIN_NODE_COST = saved
    common.log(NAME, f"without coarsening: {rec['without_coarsening']}")
    sweep = []
    for rtol in cfg["rtols"]:
        ex = SequenceClassificationInteractionExplainer(model, tok, rtol=rtol, progress=False)
        sweep.append({"rtol": rtol, **timed_explanation(ex, sentence, 1)})
        common.log(NAME, f"rtol {rtol}: {sweep[-1]}")
    rec["tolerance_sweep"] = sweep
    rec.save()


if __name__ == "__main__":
    main()
