"""Section of ``bench_throughput.py``: many texts explained in one batched call against a loop, and how much
batching can gain on this CPU."""

from __future__ import annotations

import re

from .base import NO_RESULTS, Section, Target, fe, fr, fs, median, table

TITLE = "Throughput on many texts"
MIN_SPEEDUP = 1.5  # target: the batched call at least this many times faster than a loop


def _whole_dev_set(mode: dict) -> tuple[int, float]:
    """The mode's extrapolation to the whole dev set: (its number of sentences, seconds), from the
    ``extrapolated_<N>_s`` key."""
    for key, value in mode.items():
        found = re.fullmatch(r"extrapolated_(\d+)_s", key)
        if found:
            return int(found.group(1)), value
    return 0, None


def targets(d: dict, ceilings: dict) -> list[Target]:
    out = []
    for what, ratio in d.get("batched_speedup", {}).items():
        bound = ceilings.get(what)
        note = f"; estimated ceiling on this CPU {fr(bound['max_batching_speedup'])}" if bound else ""
        out.append(
            Target(
                f"Throughput, {what}",
                f"batched >= {MIN_SPEEDUP:g}x faster than a loop",
                f"{fr(ratio)} ({'faster' if ratio >= 1 else 'slower'}{note})",
                ratio >= MIN_SPEEDUP,
            )
        )
    return out


def _headroom(ceilings: dict) -> list[str]:
    rows = [
        [
            what,
            h["selection"],
            h["texts"],
            h["median_tokens"],
            f"{h['mean_rows_per_call']:.0f}",
            ", ".join(f"{b}: {v:.1f}" for b, v in h["per_row_ms"].items()),
            fr(h["max_batching_speedup"]),
        ]
        for what, h in ceilings.items()
    ]
    return [
        "",
        "**Headroom: what batching can gain on this CPU.** The loop's own model calls (rows per call, "
        "counted on the first texts of each selection) and the per-row cost of a forward + backward pass "
        "at each call size, on a sentence of the selection's median length. Batching shares calls; it "
        "cannot reduce the rows computed. The last column is the loop's model time at its own call sizes "
        "over the same rows at the cheapest per-row cost: an estimate of the ceiling for batching (it "
        "leaves out the per-call Python work, which batching also saves, so a measured speed-up can exceed "
        "it slightly).",
        "",
        table(
            [
                "what",
                "selection",
                "texts",
                "median tokens",
                "loop: mean rows per call",
                "ms per row at rows per call",
                "estimated ceiling for batching",
            ],
            rows,
        ),
    ]


def render(d: dict, out=None) -> Section:
    modes = d.get("modes", [])
    if not modes:
        return Section(TITLE, NO_RESULTS)
    dev_set = _whole_dev_set(modes[0])[0]
    rows = [
        [
            m["what"],
            m["mode"],
            m["selection"],
            m["sentences"],
            f"{m['mean_words']:.1f}",
            fs(m["time_s"]),
            f"{m['sentences_per_s']:.2f}",
            fs(_whole_dev_set(m)[1]) + " (e)",
            f"{m['peak_rss_mb']:.0f}",
            f"{m['rss_after_load_mb']:.0f}",
            fe(m["max_relative_completeness_error"]),
        ]
        for m in modes
    ]
    order = ", ".join(mode for mode, _ in d["settings"].get("order", []))
    loaded_gb = median([m["rss_after_load_mb"] for m in modes]) / 1024
    col = d.get("dataset_column", {})
    ceilings = {
        ("interactions (IH)" if h["interactions"] else "attributions (IG)"): h
        for h in d.get("headroom", [])
        if "max_batching_speedup" in h
    }
    lines = [
        table(
            [
                "what",
                "mode",
                "sentences",
                "n",
                "mean words",
                "time",
                "sentences/s",
                f"all {dev_set} (extrapolated)",
                "peak RSS MiB",
                "RSS after load MiB",
                "max relative error",
            ],
            rows,
        ),
        "",
        "Selections: `random:N` = N random dev sentences (seed 0), `shortest:N` = the N shortest (tokens). "
        "Batched = `explainer(texts)`; loop = `[explainer(t) for t in texts]`. Each half of a selection ran in "
        f"its own subprocess in the order {order}; times are sums over the halves, peak memory the larger half "
        f"(torch's own RSS after loading the model is ~{loaded_gb:.1f} GB).",
        f'`explainer(dataset["sentence"])` (a `datasets` Column) accepted as is: '
        f"{'yes' if col.get('accepted') else 'no: ' + str(col.get('error'))}.",
    ]
    if ceilings:
        lines += _headroom(ceilings)
    sel = d["settings"]
    limits = (
        f"- Throughput: attributions measured on `{sel['ig_sentences']}` dev sentences and interactions on "
        f"`{sel['ih_sentences']}`, both modes; the '{dev_set}' column is a linear extrapolation (sentences of "
        f"the shortest selection are much cheaper than average, so for interactions it is a large "
        f"underestimate for the whole dev set).",
    )
    return Section(TITLE, "\n".join(lines), tuple(targets(d, ceilings)), limits)
