"""Corpus runs on SST-2 dev with the shared model: explain_dataset's throughput with engine="local" and with
engine="ray" at 1 and 2 workers (attributions and interactions), the tail of per-text cost, memory per worker, and
the corpus-level interactions (CorpusInteractions) of the dev set.

    python benchmarks/bench_corpus.py            # ~20 minutes on a 2-core CPU; benchmarks/results/corpus.json
    python benchmarks/bench_corpus.py --quick    # tiny settings

Part 1 (engines): the same texts in the same shards through each engine, each mode in its own subprocess; the Ray
modes start a local Ray cluster inside a network namespace with only loopback up (``unshare -n``: no packet leaves
127.0.0.1). Part 2 (corpus): attributions for the whole dev set and interactions for its first ``--ih-corpus``
sentences with a negation word (not, n't, no, never, nothing, nor; resumable: ``benchmarks/results/corpus/shards-*``), aggregated with CorpusInteractions; the aggregate is
saved exactly as ``benchmarks/results/corpus/sst2_dev_interactions.json``.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import common

NAME = "corpus"


def _child(payload: dict) -> dict:
    """One mode: explain the payload's dev rows with its engine; time, memory, path points."""
    import numpy as np
    import torch

    from transformers_ih import RayEngine, SequenceClassificationInteractionExplainer, explain_dataset

    torch.set_num_threads(payload["threads"])
    model, tokenizer = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    dev = common.dev_dataset().select(payload["rows"])
    out = {"rss_after_load_mb": common.current_rss_mb()}
    engine = "local"
    if payload["engine"] == "ray":
        engine = RayEngine(workers=payload["workers"], num_cpus=payload["workers"], object_store_memory=200 * 2**20)
        t0 = time.perf_counter()
        engine.connect()
        out["cluster_start_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = explain_dataset(
        explainer,
        dev,
        output_dir=payload.get("output_dir"),
        engine=engine,
        batch_size=payload["batch_size"],
        interactions=payload["interactions"],
        target="POSITIVE",
        progress=False,
    )
    out["time_s"] = time.perf_counter() - t0
    steps = np.array(result["steps"], dtype=float)
    errors = np.array(result["completeness_error"]) / np.maximum(
        np.abs(np.array(result["f_input"]) - np.array(result["f_baseline"])), 1e-12
    )
    out.update(
        texts=len(result),
        words=[len(w) for w in result["words"]],
        steps=steps.tolist(),
        max_relative_completeness_error=float(errors.max()),
        peak_rss_mb=common.peak_rss_mb(),
    )
    if payload["engine"] == "ray":
        out["worker_peak_rss_mb"] = engine.worker_memory()
        out["worker_shards"] = {w: sum(1 for s in engine.stats if s["worker"] == w) for w in engine.worker_memory()}
        out["shard_seconds"] = [s["seconds"] for s in engine.stats]
    if payload.get("corpus_json"):
        from transformers_ih import CorpusInteractions

        corpus = CorpusInteractions.from_explanations(result, name="distilbert-mini-sst2")
        corpus.to_json(payload["corpus_json"])
        out.update(common.corpus_pairs(corpus, min_count=3, partner_min_count=2))
    return out


def _run_mode(payload: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(payload)]
    env = None
    if payload["engine"] == "ray":  # a network namespace with only loopback up: the cluster stays on 127.0.0.1
        cmd, env = common.loopback_only(cmd)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}", "stderr_tail": proc.stderr[-2000:]}
    return json.loads(lines[-1])


def _summary(name: str, what: str, r: dict) -> dict:
    import numpy as np

    if "error" in r:
        return {"mode": name, "what": what, **r}
    steps = np.array(r["steps"])
    return {
        "mode": name,
        "what": what,
        "texts": r["texts"],
        "mean_words": float(np.mean(r["words"])),
        "time_s": r["time_s"],
        "texts_per_s": r["texts"] / r["time_s"],
        "cluster_start_s": r.get("cluster_start_s"),
        "median_steps": float(np.median(steps)),
        "max_steps": float(steps.max()),
        "tail_ratio": float(steps.max() / np.median(steps)),
        "peak_rss_mb": r["peak_rss_mb"],
        "rss_after_load_mb": r["rss_after_load_mb"],
        "worker_peak_rss_mb": r.get("worker_peak_rss_mb"),
        "worker_shards": r.get("worker_shards"),
        "max_relative_completeness_error": r["max_relative_completeness_error"],
    }


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(_child(json.loads(sys.argv[2])), default=common._json_default), flush=True)
        return 0
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--ig-texts", type=int, default=64, help="part 1: random dev sentences, attributions")
    parser.add_argument("--ih-texts", type=int, default=8, help="part 1: random short dev sentences, interactions")
    parser.add_argument(
        "--ig-corpus",
        type=int,
        default=None,
        help="part 2: first dev sentences, attributions (default: the whole dev set)",
    )
    parser.add_argument(
        "--ih-corpus", type=int, default=64, help="part 2: first dev sentences with a negation word, with interactions"
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["engines", "corpus"])
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = common.QUICK_RESULTS if args.quick else common.RESULTS
    if args.quick:
        args.ig_texts, args.ih_texts, args.ih_corpus = 8, 2, 4
    rec = common.Recorder(
        NAME,
        args,
        ig_texts=args.ig_texts,
        ih_texts=args.ih_texts,
        ih_corpus=args.ih_corpus,
        ig_corpus=args.ig_corpus,
        target="POSITIVE",
        torch_threads_local=1,
        cpus_per_ray_worker=1,
    )
    dev = common.dev_sentences()
    rng = random.Random(0)
    ig_rows = sorted(rng.sample(range(len(dev)), args.ig_texts))
    short = [i for i, (_, s) in enumerate(dev) if len(s.split()) <= 12]
    ih_rows = sorted(random.Random(1).sample(short, args.ih_texts))
    modes = [("local", "local", 1), ("ray, 1 worker", "ray", 1), ("ray, 2 workers", "ray", 2)]
    results = []
    if "engines" not in args.skip:
        for what, rows, interactions, batch in [
            ("attributions (IG)", ig_rows, False, 8),
            ("interactions (IH)", ih_rows, True, 2),
        ]:
            for name, engine, workers in modes:
                common.log(NAME, f"{what}: {name} on {len(rows)} texts")
                payload = {
                    "engine": engine,
                    "workers": workers,
                    "rows": rows,
                    "batch_size": batch,
                    "interactions": interactions,
                    "threads": 1,
                }
                r = _summary(name, what, _run_mode(payload, timeout=3600))
                results.append(r)
                common.log(NAME, json.dumps({k: v for k, v in r.items() if k != "stderr_tail"}, default=str)[:400])
        rec["modes"] = results
        ratios = {}
        for what in ("attributions (IG)", "interactions (IH)"):
            by = {r["mode"]: r for r in results if r["what"] == what and "error" not in r}
            if "local" in by:
                ratios[what] = {m: by[m]["texts_per_s"] / by["local"]["texts_per_s"] for m in by if m != "local"}
        rec["ratios_vs_local"] = ratios
    if "corpus" not in args.skip:
        folder = args.out / "corpus"
        folder.mkdir(parents=True, exist_ok=True)
        corpus_modes = []
        ig_all = 16 if args.quick else min(args.ig_corpus or len(dev), len(dev))
        negated = [i for i, (_, text) in enumerate(dev) if set(common.NEGATIONS) & set(text.split())][: args.ih_corpus]
        ig_what = "the whole dev set" if ig_all == len(dev) else f"first {ig_all} dev sentences"
        for what, rows, interactions, batch in [
            (f"attributions (IG), {ig_what}", list(range(ig_all)), False, 32),
            (f"interactions (IH), first {len(negated)} dev sentences with a negation", negated, True, 8),
        ]:
            common.log(NAME, f"corpus: {what}")
            payload = {
                "engine": "local",
                "workers": 1,
                "rows": rows,
                "batch_size": batch,
                "threads": 1,
                "interactions": interactions,
                "output_dir": str(folder / ("shards-ih" if interactions else "shards-ig")),
            }
            if interactions:
                payload["corpus_json"] = str(folder / "sst2_dev_interactions.json")
            raw = _run_mode(payload, timeout=7200)
            r = _summary("local", what, raw)
            for key in ("top_pairs", "top_positive", "top_negative", "negation_pairs", "corpus_summary"):
                if key in raw:
                    rec[key] = raw[key]
            corpus_modes.append(r)
            common.log(NAME, json.dumps({k: v for k, v in r.items() if k != "stderr_tail"}, default=str)[:400])
        rec["corpus_runs"] = corpus_modes
        for shards in folder.glob("shards-*"):  # the shards are re-made by a run; the aggregate JSON is kept
            shutil.rmtree(shards, ignore_errors=True)
    _carry_skipped(rec, args.skip)
    rec.save()
    return 0


PARTS = {  # part -> (its result keys, its settings)
    "engines": (("modes", "ratios_vs_local"), ("ig_texts", "ih_texts")),
    "corpus": (
        ("corpus_runs", "top_pairs", "top_positive", "top_negative", "negation_pairs", "corpus_summary"),
        ("ih_corpus", "ig_corpus"),
    ),
}


def _carry_skipped(rec: common.Recorder, skipped: list[str]) -> None:
    """A skipped part keeps its results from the previous results file, with a note of when they were measured and
    the machine's load then (so a quiet re-run of one part does not erase the other)."""
    if not skipped or not rec.path.exists():
        return
    previous = json.loads(rec.path.read_text())
    for part in skipped:
        keys, settings = PARTS[part]
        if not any(k in previous for k in keys):
            continue
        rec.update({k: previous[k] for k in keys if k in previous})
        rec["settings"].update({k: previous.get("settings", {}).get(k) for k in settings})
        start = previous.get("carried_from", {}).get(part) or previous.get("machine_start", {})
        rec.data.setdefault("carried_from", {})[part] = {k: start.get(k) for k in ("time", "load_average")}
        load = ", ".join(f"{v:.1f}" for v in start.get("load_average") or [])
        rec.note(
            f"the {part} part was not re-run: its results are those of the run of {start.get('time')} "
            f"(load average then {load})"
        )


if __name__ == "__main__":
    sys.exit(main())
