"""Benchmark: what the per-call twin of the user's model costs (time to build it, memory it adds).

Every explanation call runs on a *twin* (``explainers.model_state.explainable_model``): a copy of the module tree
whose parameters are detached, frozen aliases of the model's own storage. This measures building it:

* on the shared SST-2 DistilBERT (real weights): seconds per twin, the resident memory it adds, and that its
  parameters share the model's storage;
* on 7B-scale module trees (Llama-2-7B and Mixtral-8x7B configurations, built on the ``meta`` device: the tree is
  the real one, the weights take no memory), seconds per twin, next to the tree's size.

    python benchmarks/bench_model_twin.py [--quick]     # --quick: fewer repeats, Llama only
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "model_twin"


def _times(model, repeats: int) -> list[float]:
    from transformers_ih.text.model_state import explainable_model

    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        twin = explainable_model(model, True)
        out.append(time.perf_counter() - t0)
        del twin
    return out


def main(argv=None) -> int:
    import statistics

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, MixtralConfig, MixtralForCausalLM

    from transformers_ih.text.model_state import explainable_model

    args = common.parse_args(__doc__.splitlines()[0], argv)
    repeats = 3 if args.quick else 11
    rec = common.Recorder(NAME, args, repeats=repeats)
    model, _ = common.load_real_model()
    before = common.current_rss_mb()
    twin = explainable_model(model, True)
    added = common.current_rss_mb() - before
    shared = all(a.data_ptr() == b.data_ptr() for a, b in zip(model.parameters(), twin.parameters()))
    del twin
    times = _times(model, repeats)
    cases = [
        {
            "model": "distilbert-mini-sst2 (real weights)",
            "parameters": sum(p.numel() for p in model.parameters()),
            "modules": sum(1 for _ in model.modules()),
            "median_s": statistics.median(times),
            "max_s": max(times),
            "rss_added_mb": added,
            "parameters_share_storage": shared,
        }
    ]
    configs = [
        (
            "Llama-2-7B tree (meta device)",
            LlamaForCausalLM,
            LlamaConfig(
                hidden_size=4096,
                intermediate_size=11008,
                num_hidden_layers=32,
                num_attention_heads=32,
                num_key_value_heads=32,
                vocab_size=32000,
            ),
        )
    ]
    if not args.quick:
        configs.append(
            (
                "Mixtral-8x7B tree (meta device)",
                MixtralForCausalLM,
                MixtralConfig(
                    hidden_size=4096,
                    intermediate_size=14336,
                    num_hidden_layers=32,
                    num_attention_heads=32,
                    num_key_value_heads=8,
                    num_local_experts=8,
                    vocab_size=32000,
                ),
            )
        )
    for name, cls, config in configs:
        with torch.device("meta"):
            big = cls(config)
        times = _times(big, repeats)
        cases.append(
            {
                "model": name,
                "parameters": sum(p.numel() for p in big.parameters()),
                "modules": sum(1 for _ in big.modules()),
                "median_s": statistics.median(times),
                "max_s": max(times),
            }
        )
        common.log(NAME, f"{name}: median {statistics.median(times):.4f} s")
        del big
    rec["cases"] = cases
    rec.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
