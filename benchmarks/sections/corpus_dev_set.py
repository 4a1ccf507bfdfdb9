"""Section of ``bench_corpus_dev_set.py``: interactions for the whole SST-2 dev set, run in resumable sittings, and
the corpus-level pairs over the sentences done so far."""

from __future__ import annotations

from .base import NO_RESULTS, Section, fr, fs, table
from .corpus import _pairs


def _completeness(p: dict) -> str:
    """The completeness error in logits, and the relative one with the |f(x) - f(x')| it is relative to."""
    if "max_abs_completeness_error" not in p:  # results written before these were recorded
        return ""
    return (
        f" Completeness error |sum of the matrix - (f(x) - f(x'))|: at most {p['max_abs_completeness_error']:.2g} "
        f"logits; relative to |f(x) - f(x')|, median {p['median_completeness_error_over_delta']:.2%}, at most "
        f"{p['max_completeness_error_over_delta']:.1%}, on a sentence whose |f(x) - f(x')| is only "
        f"{p['delta_at_max_relative_error']:.2g}."
    )


def render(d: dict, out=None) -> Section:
    title = "The whole SST-2 dev set with interactions"
    if not d.get("sittings"):
        return Section(title, NO_RESULTS)
    s, p = d["settings"], d["per_text"]
    done, total = d["texts"], s["sentences"]
    state = "complete" if d.get("complete") else f"partial: {done} of {total} sentences so far"
    lines = [
        f"`explain_dataset` with interactions on SST-2 dev (the POSITIVE logit, {s['batch_size']} sentences per "
        f"shard), in sittings that resume from the committed shards (`benchmarks/results/corpus/dev-set-shards`; a "
        f"sitting's engine can differ, the results agree to float rounding): **{state}**.",
        "",
        table(
            [
                "sitting",
                "engine",
                "sentences before",
                "after",
                "time",
                "time / new sentence",
                "load average at start",
                "note",
            ],
            [
                [
                    x.get("time") or "-",
                    x.get("engine") or f"local, {s['threads']} torch threads",
                    x["texts_before"],
                    x["texts_after"],
                    fs(x["seconds"]),
                    fs(x["seconds"] / (x["texts_after"] - x["texts_before"]))
                    if x["texts_after"] > x["texts_before"]
                    else "-",
                    ", ".join(f"{v:.1f}" for v in x.get("load_average_start") or []),
                    x.get("note", ""),
                ]
                for x in d["sittings"]
            ],
        ),
        "",
        f"Per sentence: {p['mean_words']:.1f} words on average (at most {p['max_words']:.0f}), "
        f"{fs(p['seconds_per_text'])} of wall time over all sittings (each sitting's in the table, with what else ran), path points max / median "
        f"{p['max_steps']:.0f} / "
        f"{p['median_steps']:.0f} = {fr(p['tail_ratio'])}." + _completeness(p),
        "",
    ]
    summary = d.get("corpus_summary") or {}
    if d.get("top_pairs"):
        lines += [
            f"Strongest word-type pairs over the {summary.get('texts', done)} sentences done "
            f"({summary.get('word_types', '?')} word types, {summary.get('pairs', '?')} pairs; the aggregate "
            "is saved exactly in `benchmarks/results/corpus/sst2_dev_set_interactions.json` by each sitting, "
            "re-made from the committed shards), mean interaction on the POSITIVE logit, seen at least 5 times, "
            "by mean |interaction|:",
            "",
            _pairs(d["top_pairs"]),
            "",
        ]
    negations = d.get("negation_pairs") or []
    if isinstance(negations, dict):  # results written before the benchmarks shared common.corpus_pairs
        negations = [x for pairs in negations.values() for x in pairs]
    if negations:
        negations = sorted(negations, key=lambda x: -x["mean_abs"])[:10]
        lines += ["Negation words' strongest partners (seen at least 3 times):", "", _pairs(negations), ""]
    limits = (
        ()
        if d.get("complete")
        else (
            f"- Whole dev set with interactions: {done} of {total} sentences so far; the pairs above are over those "
            f"sentences, the first of the dev file, and say nothing about the corpus yet.",
        )
    )
    return Section(title, "\n".join(lines).rstrip(), (), limits)
