"""Interactions for the whole SST-2 dev set (872 sentences) with the shared model, aggregated with
CorpusInteractions: the corpus-level pairs the README summarises.

    python benchmarks/bench_corpus_dev_set.py            # ~3 h of one 2-core CPU, in as many sittings as needed
    python benchmarks/bench_corpus_dev_set.py --quick    # the first 16 sentences, results/quick/

Resumable: ``explain_dataset(..., output_dir=benchmarks/results/corpus/dev-set-shards)`` writes one Parquet shard
per ``--batch-size`` sentences as they are made; the shards are committed, so a run stopped at any point (also
SIGKILL, or the end of a session) continues where it stopped, and a changed model or configuration is refused by
explain_dataset rather than mixed in. Each sitting appends its sentences and seconds to the result file. When every
sentence is done the aggregate is saved exactly (``benchmarks/results/corpus/sst2_dev_set_interactions.json``) and
the result file gets the strongest pairs, the negation pairs and the per-text cost.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import common

NAME = "corpus_dev_set"
NEGATIONS = ("not", "n't", "no", "never", "nothing", "nor")


def _previous(path: Path) -> list:
    try:
        return json.loads(path.read_text()).get("sittings", [])
    except (OSError, ValueError):
        return []


def main(argv=None) -> int:
    import argparse

    import numpy as np
    import torch

    from transformers_ih import CorpusInteractions, SequenceClassificationInteractionExplainer, explain_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=8, help="sentences per shard (one explainer call)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = common.QUICK_RESULTS if args.quick else common.RESULTS
    torch.set_num_threads(args.threads)
    rec = common.Recorder(NAME, args, batch_size=args.batch_size, threads=args.threads, target="POSITIVE",
                          engine="local", interactions=True)
    sittings = _previous(rec.path)
    model, tokenizer = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tokenizer)
    dev = common.dev_dataset()
    if args.quick:
        dev = dev.select(range(16))
    folder = args.out / "corpus"
    shards = folder / "dev-set-shards"
    done_before = sum(1 for _ in shards.glob("shards/*.parquet")) * args.batch_size if shards.exists() else 0
    t0 = time.perf_counter()
    result = explain_dataset(explainer, dev, output_dir=shards, batch_size=args.batch_size, target="POSITIVE",
                             progress=True)
    seconds = time.perf_counter() - t0
    sittings.append({"started_with_texts_done": min(done_before, len(dev)), "texts_now": len(result),
                     "seconds": seconds, "load_average_start": rec["machine_start"].get("load_average")})
    rec["sittings"] = sittings
    words = np.array([len(w) for w in result["words"]], dtype=float)
    steps = np.array(result["steps"], dtype=float)
    delta = np.abs(np.array(result["f_input"]) - np.array(result["f_baseline"]))
    errors = np.array(result["completeness_error"]) / np.maximum(delta, 1e-12)
    rec["texts"] = len(result)
    rec["per_text"] = {"mean_words": float(words.mean()), "max_words": float(words.max()),
                       "median_steps": float(np.median(steps)), "max_steps": float(steps.max()),
                       "tail_ratio": float(steps.max() / np.median(steps)),
                       "max_relative_completeness_error": float(errors.max()),
                       "seconds_per_text_all_sittings": sum(s["seconds"] for s in sittings
                                                            if s["started_with_texts_done"] < s["texts_now"])
                       / max(1, len(result) - min(s["started_with_texts_done"] for s in sittings))}
    corpus = CorpusInteractions.from_explanations(result, name="distilbert-mini-sst2 on SST-2 dev")
    corpus.to_json(folder / "sst2_dev_set_interactions.json")
    rec["corpus_summary"] = {"texts": corpus.num_texts, "word_types": len(corpus.words), "pairs": corpus.num_pairs}
    rec["top_pairs"] = [s.__dict__ for s in corpus.top_pairs(15, min_count=5)]
    rec["top_positive"] = [s.__dict__ for s in corpus.top_pairs(10, by="mean", sign="positive", min_count=5)]
    rec["top_negative"] = [s.__dict__ for s in corpus.top_pairs(10, by="mean", sign="negative", min_count=5)]
    rec["negation_pairs"] = {w: [s.__dict__ for s in corpus.partners(w, 8, min_count=3)]
                             for w in NEGATIONS if w in corpus}
    rec.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
