"""Interactions for the whole SST-2 dev set (872 sentences) with the shared model, aggregated with
CorpusInteractions: the corpus-level pairs the README summarises.

    python benchmarks/bench_corpus_dev_set.py                    # until done (~4 h of a 2-core CPU in all)
    python benchmarks/bench_corpus_dev_set.py --budget-s 3600    # one sitting of at most an hour
    python benchmarks/bench_corpus_dev_set.py --quick            # the first 16 sentences, results/quick/

Once every sentence is done, a run explains nothing and only re-makes the aggregate from the shards (seconds).

Resumable, in as many sittings as needed: a child process runs ``explain_dataset(..., output_dir=
benchmarks/results/corpus/dev-set-shards)``, which writes one Parquet shard per ``--batch-size`` sentences as they
are made; the shards are committed, so a sitting stopped at any point (its time budget, SIGKILL, the end of a
session) is continued by the next one, and a changed model or configuration is refused by explain_dataset rather
than mixed in. After each sitting the finished shards are aggregated (``read_output``): the result file says how
many of the 872 sentences are done, appends the sitting (sentences, seconds, load), and holds the strongest pairs
and the negation pairs over the sentences done so far; the aggregate is saved exactly
(``benchmarks/results/corpus/sst2_dev_set_interactions.json``, ``CorpusInteractions.from_json``; 12 MB, so not
committed: each sitting re-makes it from the committed shards).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import common

NAME = "corpus_dev_set"
THIS = Path(__file__).resolve()


def _child(payload: dict) -> None:
    """Explain the dev set (or its first ``limit`` rows) into ``folder``, resuming; killed at the sitting's end."""
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer, explain_dataset

    torch.set_num_threads(payload["threads"])
    model, tokenizer = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    dev = common.dev_dataset()
    if payload["limit"]:
        dev = dev.select(range(payload["limit"]))
    engine = "local"
    if payload.get("workers"):  # Ray actors of one CPU each (each loads the model from its path, once)
        from transformers_ih import RayEngine

        engine = RayEngine(workers=payload["workers"], num_cpus=payload["workers"], object_store_memory=200 * 2**20)
    explain_dataset(
        explainer,
        dev,
        output_dir=payload["folder"],
        batch_size=payload["batch_size"],
        engine=engine,
        target="POSITIVE",
        progress=True,
    )


def _done(folder: Path) -> int:
    if not (folder / "manifest.json").exists():
        return 0
    from transformers_ih.corpus import read_output

    return len(read_output(folder))


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(json.loads(sys.argv[2]))
        return 0
    import argparse

    import numpy as np

    from transformers_ih import CorpusInteractions
    from transformers_ih.corpus import read_output

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=8, help="sentences per shard (one explainer call)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the local engine")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="Ray workers of one CPU each (0: the local engine); "
        "the cluster runs in a network namespace with only loopback up",
    )
    parser.add_argument("--budget-s", type=float, default=None, help="stop this sitting after so many seconds")
    parser.add_argument("--note", default=None, help="recorded with the sitting (e.g. what else ran on the CPU)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = common.QUICK_RESULTS if args.quick else common.RESULTS
    total = 16 if args.quick else len(common.dev_sentences())
    engine = f"ray, {args.workers} workers of 1 CPU" if args.workers else f"local, {args.threads} torch threads"
    rec = common.Recorder(
        NAME,
        args,
        batch_size=args.batch_size,
        threads=args.threads,
        target="POSITIVE",
        engine=engine,
        interactions=True,
        sentences=total,
    )
    try:
        sittings = json.loads(rec.path.read_text()).get("sittings", [])
    except (OSError, ValueError):
        sittings = []
    folder = args.out / "corpus" / "dev-set-shards"
    before = _done(folder)
    payload = {
        "folder": str(folder),
        "batch_size": args.batch_size,
        "threads": 1 if args.workers else args.threads,
        "workers": args.workers,
        "limit": total if args.quick else None,
    }
    if before < total:  # once all are done, a run only re-makes the aggregate from the shards
        cmd = [sys.executable, str(THIS), "--child", json.dumps(payload)]
        env = dict(os.environ)
        if args.workers:  # a network namespace with only loopback up: the cluster stays on 127.0.0.1
            cmd, env = common.loopback_only(cmd)
        env["TRANSFORMERS_IH_PROGRESS_INTERVAL"] = "60"
        t0 = time.perf_counter()
        # its own session, so that the budget's SIGKILL reaches the whole process group (Ray's processes too)
        child = subprocess.Popen(cmd, env=env, start_new_session=True)
        try:
            child.wait(timeout=args.budget_s)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            common.log(NAME, f"sitting stopped after its budget of {args.budget_s:.0f} s; the finished shards stay")
        seconds = time.perf_counter() - t0
        result = read_output(folder)
        sittings.append(
            {
                "time": rec["machine_start"].get("time"),
                "texts_before": before,
                "texts_after": len(result),
                "seconds": seconds,
                "load_average_start": rec["machine_start"].get("load_average"),
                "engine": engine,
                **({"note": args.note} if args.note else {}),
            }
        )
    else:
        common.log(NAME, f"all {total} sentences are done: re-making the aggregate from the shards")
        result = read_output(folder)
    rec["sittings"] = sittings
    rec["texts"] = len(result)
    rec["complete"] = len(result) == total
    words = np.array([len(w) for w in result["words"]], dtype=float)
    steps = np.array(result["steps"], dtype=float)
    delta = np.abs(np.array(result["f_input"]) - np.array(result["f_baseline"]))
    errors = np.abs(np.array(result["completeness_error"]))
    relative = errors / np.maximum(delta, 1e-12)  # large only where f(x) ~ f(x'): hence the absolute one too
    explained = sum(s["texts_after"] - s["texts_before"] for s in sittings)
    rec["per_text"] = {
        "mean_words": float(words.mean()),
        "max_words": float(words.max()),
        "median_steps": float(np.median(steps)),
        "max_steps": float(steps.max()),
        "tail_ratio": float(steps.max() / np.median(steps)),
        "max_completeness_error_over_delta": float(relative.max()),
        "median_completeness_error_over_delta": float(np.median(relative)),
        "max_abs_completeness_error": float(errors.max()),  # logits
        "delta_at_max_relative_error": float(delta[np.argmax(relative)]),
        "seconds_per_text": sum(s["seconds"] for s in sittings) / max(explained, 1),
    }
    corpus = CorpusInteractions.from_explanations(result, name="distilbert-mini-sst2 on SST-2 dev")
    corpus.to_json(args.out / "corpus" / "sst2_dev_set_interactions.json")
    rec.update(common.corpus_pairs(corpus, min_count=5, partner_min_count=3, partners=8))
    rec.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
