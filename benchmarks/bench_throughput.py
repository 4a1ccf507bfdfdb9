"""Benchmark 4: throughput on many texts with the real model: SST-2 dev sentences explained as one list
(``explainer(texts)``) vs a Python loop over single texts (``[explainer(t) for t in texts]``); sentences per
second and peak memory. Each configuration runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own.

* Attributions (IG, ``interactions=False``): a random 200 of the 872 dev sentences (seed 0; ``--quick``: 8).
  IG takes about a second per sentence on this shared 2-core CPU, so all 872 in both modes would take half an
  hour of the benchmark's budget; the time for all 872 is extrapolated (linearly in sentences) and stated so.
* Interactions (IH, attributions + the full interaction matrix): the 40 shortest dev sentences (an IH explanation
  of a typical 20-word sentence takes minutes on this CPU, so all 872 would take many hours).
* Drift on a shared machine: each selection is split in two halves run as batched, loop, loop, batched (ABBA),
  each half in a fresh subprocess; a mode's time is the sum of its two halves, its peak memory the larger.
* Whether a ``datasets`` column (``dataset["sentence"]``) is accepted as it is, is checked on two sentences.
* Headroom: what batching could gain at most on this machine. The loop's own model calls are recorded (rows per
  call, by wrapping ``model.forward``), and the per-row cost of a scalar pass (forward + backward) is measured at
  those call sizes and at large ones. The loop's time with every call at the saturated per-row cost is a lower
  bound for any batched run's model time (batching shares calls; it cannot reduce the rows computed).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "throughput"
THIS = Path(__file__).resolve()


def select(dev: list[str], tok, spec: str) -> list[str]:
    kind, _, n = spec.partition(":")
    if kind == "all":
        return dev
    if kind == "first":
        return dev[: int(n)]
    if kind == "random":
        import numpy as np

        idx = np.random.default_rng(0).choice(len(dev), size=int(n), replace=False)
        return [dev[i] for i in sorted(idx)]
    if kind == "shortest":
        counted = common.word_counts_and_sentences(tok, dev)
        order = sorted(range(len(dev)), key=lambda i: (counted[i][1], i))
        return [dev[i] for i in order[: int(n)]]
    raise ValueError(spec)


def child(payload: dict) -> dict:
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = (
        SequenceClassificationInteractionExplainer(model, tok, progress=False)
        if "progress" in _init_params()
        else SequenceClassificationInteractionExplainer(model, tok)
    )
    texts = select([s for _, s in common.dev_sentences()], tok, payload["sentences"])
    half = (len(texts) + 1) // 2
    texts = texts[:half] if payload["half"] == 0 else texts[half:]
    explainer(texts[0], interactions=payload["interactions"], steps=1)  # warm-up (lazy init, rule cache)
    rss0 = common.current_rss_mb()
    t0 = time.perf_counter()
    if payload["mode"] == "batched":
        out = explainer(texts, interactions=payload["interactions"])
    else:
        out = [explainer(t, interactions=payload["interactions"]) for t in texts]
    t = time.perf_counter() - t0
    errors = [e.completeness_error / max(abs(e.f_input - e.f_baseline), 1e-12) for e in out]
    words = [len(e.words) for e in out]
    steps = [e.steps for e in out]
    return {
        "mode": payload["mode"],
        "interactions": payload["interactions"],
        "sentences": len(texts),
        "time_s": t,
        "sentences_per_s": len(texts) / t,
        "rss_after_load_mb": rss0,
        "peak_rss_mb": common.peak_rss_mb(),
        "mean_words": sum(words) / len(words),
        "total_words": sum(words),
        "mean_steps": sum(steps) / len(steps),
        "max_relative_completeness_error": max(errors),
        "torch_threads": torch.get_num_threads(),
    }


def _init_params():
    import inspect

    from transformers_ih import SequenceClassificationInteractionExplainer

    return inspect.signature(SequenceClassificationInteractionExplainer.__init__).parameters


def headroom(payload: dict) -> dict:
    """Rows per model call in a loop over single texts, and the per-row cost of a gradient pass at each call
    size vs at 64 and 256 rows: the loop's model time could shrink at most by the ratio computed here."""
    import collections

    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False)
    texts = select([s for _, s in common.dev_sentences()], tok, payload["sentences"])[: payload["texts"]]
    calls = collections.Counter()

    def counting(module, args, kwargs):
        x = kwargs.get("inputs_embeds")
        x = kwargs.get("input_ids") if x is None else x
        calls[int(x.shape[0])] += 1

    # a hook, not a replaced forward: the explainer runs a twin of the model (a copy of its module tree, hooks
    # included), whose forward must stay its own
    hook = model.register_forward_pre_hook(counting, with_kwargs=True)
    try:
        for t in texts:
            explainer(t, interactions=payload["interactions"])
    finally:
        hook.remove()
    # per-row cost of forward + backward (a gradient) at each batch size, on a sentence of the median length
    lengths = sorted(len(tok(t)["input_ids"]) for t in texts)
    text = next(t for t in texts if len(tok(t)["input_ids"]) == lengths[len(lengths) // 2])
    case = common.Case(explainer, text)
    per_row = {}
    with case.engine_context(interactions=payload["interactions"]):  # the explainer's scalar passes, as it runs them
        for b in sorted(set(calls) | {64, 256}):
            e = case.x[None].repeat(b, 1, 1).requires_grad_(True)

            def step():
                torch.autograd.grad(case.f(e).sum(), e)

            step()
            reps = max(2, 64 // b)
            t0 = time.perf_counter()
            for _ in range(reps):
                step()
            per_row[b] = (time.perf_counter() - t0) / reps / b
    rows = sum(b * n for b, n in calls.items())
    at_calls = sum(per_row[b] * b * n for b, n in calls.items())
    best = min(per_row.values())
    return {
        "texts": len(texts),
        "median_tokens": lengths[len(lengths) // 2],
        "calls": dict(sorted(calls.items())),
        "rows": rows,
        "per_row_ms": {b: 1e3 * v for b, v in per_row.items()},
        "mean_rows_per_call": rows / sum(calls.values()),
        "max_batching_speedup": at_calls / (best * rows),
        "interactions": payload["interactions"],
        "selection": payload["sentences"],
    }


def dataset_column_check() -> dict:
    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok)
    column = common.dev_dataset().select(range(2))["sentence"]
    try:
        out = explainer(column, interactions=False, steps=2)
        return {
            "accepted": True,
            "type": type(column).__name__,
            "returned": type(out).__name__,
            "count": len(out) if isinstance(out, list) else None,
        }
    except Exception as exc:  # noqa: BLE001 - recorded
        return {"accepted": False, "type": type(column).__name__, "error": f"{type(exc).__name__}: {exc}"[:300]}


def main(argv=None):
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        payload = json.loads(sys.argv[2])
        print(json.dumps(headroom(payload) if payload.get("headroom") else child(payload)))
        return
    args = common.parse_args(__doc__.splitlines()[0], argv)
    quick = args.quick
    cfg = dict(
        ig_sentences="random:8" if quick else "random:200",
        ih_sentences="shortest:4" if quick else "shortest:40",
        order=[("batched", 0), ("loop", 0), ("loop", 1), ("batched", 1)],
        headroom_texts=4 if quick else 12,
    )
    rec = common.Recorder(NAME, args, **cfg)
    rec["dataset_column"] = dataset_column_check()
    common.log(NAME, f"datasets column accepted as is: {rec['dataset_column']}")
    runs, modes = [], []
    for interactions, spec in ((False, cfg["ig_sentences"]), (True, cfg["ih_sentences"])):
        what = "interactions (IH)" if interactions else "attributions (IG)"
        halves = []
        for mode, half in cfg["order"]:
            r = common.run_child(THIS, {"mode": mode, "half": half, "interactions": interactions, "sentences": spec})
            r.update({"what": what, "selection": spec, "half": half, "mode": mode})
            halves.append(r)
            runs.append(r)
            common.log(
                NAME,
                f"{what} {mode} half {half} of {spec}: "
                + (
                    f"{r['time_s']:.1f} s, {r['sentences_per_s']:.2f} sentences/s, peak {r['peak_rss_mb']:.0f} MiB"
                    if "error" not in r
                    else r["error"]
                ),
            )
            rec["runs"] = runs
            rec.save()
        for mode in ("batched", "loop"):
            mine = [r for r in halves if r["mode"] == mode and "error" not in r]
            if len(mine) != 2:
                continue
            n, t = sum(r["sentences"] for r in mine), sum(r["time_s"] for r in mine)
            modes.append(
                {
                    "what": what,
                    "mode": mode,
                    "selection": spec,
                    "sentences": n,
                    "time_s": t,
                    "sentences_per_s": n / t,
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in mine),
                    "rss_after_load_mb": max(r["rss_after_load_mb"] for r in mine),
                    "mean_words": sum(r["mean_words"] * r["sentences"] for r in mine) / n,
                    "max_relative_completeness_error": max(r["max_relative_completeness_error"] for r in mine),
                    "extrapolated_872_s": t / n * 872,
                }
            )
        rec["modes"] = modes
    ratios = {}
    for what in ("attributions (IG)", "interactions (IH)"):
        b = [m for m in modes if m["what"] == what and m["mode"] == "batched"]
        lo = [m for m in modes if m["what"] == what and m["mode"] == "loop"]
        if b and lo:
            ratios[what] = lo[0]["time_s"] / b[0]["time_s"]
    rec["batched_speedup"] = ratios
    rec.save()
    bounds = []
    for interactions, spec in ((False, cfg["ig_sentences"]), (True, cfg["ih_sentences"])):
        r = common.run_child(
            THIS, {"headroom": True, "interactions": interactions, "sentences": spec, "texts": cfg["headroom_texts"]}
        )
        bounds.append(r)
        common.log(NAME, f"headroom ({'IH' if interactions else 'IG'}): {r}")
    rec["headroom"] = bounds
    rec.save()


if __name__ == "__main__":
    main()
