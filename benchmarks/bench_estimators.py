"""Integrated Hessians vs shapiq's Shapley interaction indices through the project's own API, and the removal
check's cost.

    python benchmarks/bench_estimators.py [--quick]     # --quick: one 10-word sentence, small budgets

For SST-2 dev sentences of 10, 20 and 40 words (two each), on the shared DistilBERT SST-2 model, each estimator is
called as a user calls it (``explainer(text)``, ``explainer(text, estimator=..., budget=...)``) and measured on the
explanation's own game (``explainer.coalition_values``: removed words at the pad baseline):

* ``r2``: R^2 of the second-order surrogate ``f(x') + sum_{i, j in S} M_ij`` on 200 uniform random coalitions
  (the same 200 for every estimator of a sentence);
* ``pairs_r``: the removal check's correlation of the 10 strongest pairs' values with their removal interactions;
* ``seconds``: the call's wall time (the removal check included); for Integrated Hessians also the check's own time
  and its share of the call;
* ``curves``: R^2 of FSII and k-SII against the budget (coalitions), up to exact (2^W) where that is reached.
"""

from __future__ import annotations

import json
import sys
import time

import common
import numpy as np
import torch

import transformers_ih.tasks.base as task_base
from transformers_ih import SequenceClassificationInteractionExplainer
from transformers_ih.evaluate import measure_fidelity

NAME = "estimators"
INDICES = ("FSII", "k-SII", "STII", "FBII")
CURVE_INDICES = ("FSII", "k-SII")


def sentences_of_length(tokenizer, sentences: list[str], words: int, n: int) -> list[str]:
    """The first ``n`` sentences of exactly ``words`` words (the tokenizer's word ids)."""
    chosen = []
    for s in sentences:
        ids = tokenizer(s).word_ids()
        if len({w for w in ids if w is not None}) == words:
            chosen.append(s)
        if len(chosen) == n:
            break
    return chosen


def budget_for(words: int, quick: bool) -> int:
    """Coalitions per index call: 2048, or 4096 from 40 words (shapiq's STII sampler needs over 3,162 coalitions
    for one permutation round on 40 features)."""
    if quick:
        return 256
    return 2048 if words < 40 else 4096


def main(argv=None) -> int:
    args = common.parse_args(__doc__.splitlines()[0], argv, parts=("10", "20", "40"))
    lengths = [10] if args.quick else [int(p) for p in args.only]
    per_length = 1 if args.quick else 2
    curve_budgets = [64, 256] if args.quick else [128, 256, 512, 1024, 2048, 4096]
    rec = common.Recorder(
        NAME,
        args,
        lengths=[10] if args.quick else [10, 20, 40],
        sentences_per_length=per_length,
        budget={str(n): budget_for(n, args.quick) for n in (10, 20, 40)},
        curve_budgets=curve_budgets,
        coalitions=200,
        check_pairs=10,
    )
    rows, curves = [], []
    if not args.quick and rec.path.exists():  # a partial re-run (--only) keeps the other lengths' earlier rows
        earlier = json.loads(rec.path.read_text())
        rows = [r for r in earlier.get("rows", []) if r["words"] not in lengths]
        curves = [c for c in earlier.get("curves", []) if c["words"] not in lengths]
        for r in rows + curves:
            r.setdefault("earlier_run", earlier.get("machine_start", {}).get("time"))
    torch.manual_seed(0)
    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False)
    dev = [s for _, s in common.dev_sentences()]

    check_time: dict[str, float] = {}
    attach = task_base.attach_removal_checks

    def timed_check(*a, **k):  # the removal check's own time, inside the call
        t0 = time.perf_counter()
        attach(*a, **k)
        check_time["s"] = check_time.get("s", 0.0) + time.perf_counter() - t0

    task_base.attach_removal_checks = timed_check
    try:
        for length in lengths:
            for text in sentences_of_length(tok, dev, length, per_length):
                masks = np.random.default_rng(0).random((200, length)) < 0.5

                def measure(e):
                    fid = measure_fidelity(
                        lambda m, e=e: explainer.coalition_values(e, m), e.interactions, None, e.f_baseline, masks
                    )
                    return fid.r2_second_order

                for estimator in ("integrated-hessians", *INDICES):
                    budget = budget_for(length, args.quick)
                    options = {} if estimator == "integrated-hessians" else {"estimator": estimator, "budget": budget}
                    check_time.clear()
                    t0 = time.perf_counter()
                    e = explainer(text, **options)
                    seconds = time.perf_counter() - t0
                    row = {
                        "words": len(e.words),
                        "text": text,
                        "estimator": estimator,
                        "seconds": seconds,
                        "r2": measure(e),
                        "pairs_r": e.removal_check["correlation"],
                        "sign_agreement": e.removal_check["sign_agreement"],
                        "check_rows": e.removal_check["coalitions"],
                        "check_s": check_time.get("s"),
                        "check_share": check_time.get("s", 0.0) / seconds,
                        "shapley": e.meta.get("shapley"),
                    }
                    rows.append(row)
                    common.log(
                        NAME,
                        f"{row['words']:>3} words {estimator:>20}: R^2 {row['r2']:+.3f}  pairs r {row['pairs_r']:+.3f}  "
                        f"{seconds:7.1f} s  (check {row['check_rows']} rows, {100 * row['check_share']:.1f} %)",
                    )
                for estimator in CURVE_INDICES:
                    for b in curve_budgets:
                        b = min(b, 2**length)
                        t0 = time.perf_counter()
                        e = explainer(text, estimator=estimator, budget=b, seed=0, check=False)
                        curves.append(
                            {
                                "words": length,
                                "text": text,
                                "estimator": estimator,
                                "budget": b,
                                "exact": b >= 2**length,
                                "seconds": time.perf_counter() - t0,
                                "r2": measure(e),
                            }
                        )
                        common.log(NAME, f"{length:>3} words {estimator:>6} budget {b:>5}: R^2 {curves[-1]['r2']:+.3f}")
                        if b >= 2**length:
                            break
                rec["rows"], rec["curves"] = rows, curves
                rec.save()  # after every sentence: a long run interrupted keeps what it measured
    finally:
        task_base.attach_removal_checks = attach
    rec["rows"], rec["curves"] = rows, curves
    rec.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
