"""Section of ``bench_corpus.py``: explain_dataset's throughput per engine (local, Ray with 1 and 2 workers), the tail
of per-text cost, memory per worker, and the corpus-level pairs of SST-2 dev."""

from __future__ import annotations

from .base import NO_RESULTS, Section, Target, fr, fs, table

TITLE = "Explaining a corpus: engines and corpus-level pairs"
RAY_OVERHEAD_LIMIT = 0.5  # target: Ray with 2 workers reaches at least this fraction of the local engine's rate


def _mode_rows(modes: list[dict]) -> list[list]:
    rows = []
    for m in modes:
        if "error" in m:
            rows.append([m["what"], m["mode"], "-", "-", "-", "-", "-", "-", f"error: {m['error']}"])
            continue
        workers = m.get("worker_peak_rss_mb") or {}
        memory = (
            (", ".join(f"{v:.0f}" for v in sorted(workers.values())) + " (workers)")
            if workers
            else f"{m['peak_rss_mb']:.0f}"
        )
        rows.append(
            [
                " ".join(m["what"].split()),
                m["mode"],
                m["texts"],
                f"{m['mean_words']:.1f}",
                fs(m["time_s"]),
                f"{m['texts_per_s']:.3g}",
                fs(m["cluster_start_s"]) if m.get("cluster_start_s") else "-",
                f"{m['max_steps']:.0f} / {m['median_steps']:.0f} = {fr(m['tail_ratio'])}",
                memory,
            ]
        )
    return rows


def _pairs(pairs: list[dict]) -> str:
    return table(
        ["pair", "mean interaction", "mean abs", "occurrences", "texts"],
        [[f"{p['a']} × {p['b']}", f"{p['mean']:+.3f}", f"{p['mean_abs']:.3f}", p["count"], p["texts"]] for p in pairs],
    )


def targets(d: dict) -> list[Target]:
    out = []
    for what, ratios in d.get("ratios_vs_local", {}).items():
        two = ratios.get("ray, 2 workers")
        if two is not None:
            out.append(
                Target(
                    f"Corpus, Ray 2 workers vs local, {what}",
                    f">= {RAY_OVERHEAD_LIMIT:g}x the local rate on this 2-core CPU",
                    f"{fr(two)} (1 worker: {fr(ratios.get('ray, 1 worker'))})",
                    two >= RAY_OVERHEAD_LIMIT,
                )
            )
    return out


def render(d: dict, out=None) -> Section:
    modes, corpus_runs = d.get("modes", []), d.get("corpus_runs", [])
    if not modes and not corpus_runs:
        return Section(TITLE, NO_RESULTS)
    s = d["settings"]
    headers = [
        "what",
        "engine",
        "texts",
        "mean words",
        "time",
        "texts/s",
        "Ray start",
        "path points max / median",
        "peak RSS MiB",
    ]
    lines = []
    if modes:
        lines += [
            "`explain_dataset` on the same dev sentences and shards through each engine, each mode in its own "
            "process: `local` (one process, 1 torch thread) and `RayEngine` on a local Ray cluster started "
            "for the run (1 CPU and 1 torch thread per worker; the cluster in a network namespace with only "
            "loopback up). One torch thread per process everywhere, so that every process computes alike: the "
            "local engine then uses one of the two cores (with two torch threads it uses both: over the whole dev "
            'set, section "The whole SST-2 dev set with interactions", it was within a few percent of Ray with '
            "2 workers). The time includes the Ray workers loading the model (`from_pretrained` by path) but not "
            "the cluster's start (own column). Attributions: random dev sentences (seed 0), 8 per shard; "
            "interactions: random dev sentences of at most 12 words (seed 1), 2 per shard. Target: the POSITIVE "
            "logit.",
            "",
            table(headers, _mode_rows(modes)),
            "",
        ]
        ratio_rows = [
            [what, *(fr(r.get(m)) for m in ("ray, 1 worker", "ray, 2 workers"))]
            for what, r in d.get("ratios_vs_local", {}).items()
        ]
        if ratio_rows:
            lines += [
                "Rates relative to the local engine (same run):",
                "",
                table(["what", "ray, 1 worker", "ray, 2 workers"], ratio_rows),
                "",
                "The modes ran one after another, one process at a time, so load from other processes (see "
                "Machine: the load average at this run's start and end) would change between modes. Against "
                "the local engine, one Ray worker pays the driver's and the raylet's share of the CPU and each "
                "worker's model load (a few seconds); a second worker uses the second core.",
                "",
            ]
    if corpus_runs:
        lines += [
            "**The corpus run** (local engine, shards written to an output folder and resumable):",
            "",
            table(headers, _mode_rows(corpus_runs)),
            "",
        ]
    summary = d.get("corpus_summary")
    if summary and d.get("top_pairs"):
        lines += [
            f"**Pairs over the negation subset** (`CorpusInteractions` over the first {summary['texts']} dev "
            f"sentences with a negation word only: {summary['word_types']} word types, {summary['pairs']} word-type "
            f"pairs; the aggregate is saved exactly in `benchmarks/results/corpus/sst2_dev_interactions.json`; the "
            f'whole dev set\'s pairs are in "The whole SST-2 dev set with interactions"). '
            "Mean interaction on the POSITIVE logit over a pair's occurrences (half the pair's total in a "
            "sentence), pairs seen at least 3 times, by mean |interaction|:",
            "",
            _pairs(d["top_pairs"]),
            "",
        ]
        if d.get("negation_pairs"):
            negations = sorted(d["negation_pairs"], key=lambda p: -p["mean_abs"])[:10]
            lines += ["Negation words' strongest partners (seen at least twice):", "", _pairs(negations), ""]
    limits = []
    if modes:
        limits.append(
            f"- Corpus engines: attributions on {s['ig_texts']} and interactions on {s['ih_texts']} dev "
            "sentences per engine; rates on the whole dev set are not extrapolated from them. Two Ray "
            "workers on this 2-core machine share its cores with the driver and the raylet."
        )
    if corpus_runs:
        limits.append(
            f"- Corpus pairs here: interactions for the first {s['ih_corpus']} dev sentences with a "
            "negation word only, so these pairs are those of negated sentences; the whole dev set's pairs "
            'are in "The whole SST-2 dev set with interactions" (`bench_corpus_dev_set.py`, run in '
            "sittings). Attributions for "
            + (f"the first {s['ig_corpus']} dev sentences." if s.get("ig_corpus") else "the whole dev set.")
        )
    return Section(TITLE, "\n".join(lines).rstrip(), tuple(targets(d)), tuple(limits))
