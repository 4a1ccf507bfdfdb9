"""Run every benchmark (each in its own process), then regenerate the report.

    python benchmarks/run_all.py            # full run (~40 minutes on a 2-core CPU): benchmarks/results/*.json, BENCHMARKS.md
    python benchmarks/run_all.py --quick    # tiny settings (~5 minutes): benchmarks/results/quick/, its own BENCHMARKS.md
    python benchmarks/run_all.py --only throughput long_input

Benchmarks: interactions vs path_explain, accuracy per model evaluation, attributions vs Captum /
transformers-interpret, throughput on many texts, a 512-token input.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = {
    "target_23_words": "bench_target_23.py",
    "interactions_vs_path_explain": "bench_interactions_path_explain.py",
    "accuracy_per_evaluation": "bench_accuracy_per_evaluation.py",
    "attributions_vs_captum": "bench_attributions_captum.py",
    "throughput": "bench_throughput.py",
    "long_input": "bench_long_input.py",
    "hvp_strategy": "bench_hvp_strategy.py",
    "long_document": "bench_long_document.py",
    "faithfulness": "bench_faithfulness.py",
    "estimators": "bench_estimators.py",
    "corpus": "bench_corpus.py",
    "model_twin": "bench_model_twin.py",
    # hours on a CPU the first time; resumes from its committed shards (pass --budget-s to the script for a sitting)
    "corpus_dev_set": "bench_corpus_dev_set.py",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings, to validate the scripts")
    parser.add_argument("--only", nargs="*", choices=list(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    failed = []
    t_all = time.perf_counter()
    for name in names:
        cmd = [sys.executable, str(HERE / BENCHMARKS[name])] + (["--quick"] if args.quick else [])
        print(f"=== {name}: {' '.join(cmd)}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"=== {name}: exit {rc} after {time.perf_counter() - t0:.0f} s", flush=True)
        if rc != 0:
            failed.append(name)
    report = [sys.executable, str(HERE / "report.py")] + (["--quick"] if args.quick else [])
    subprocess.call(report)
    print(f"=== all done in {time.perf_counter() - t_all:.0f} s" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
