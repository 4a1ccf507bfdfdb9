"""Benchmark: Hessian-vector-product strategies per input length, peak memory at 512 tokens, and the adaptive
rule's node counts near f(x) = f(x') (issue 16, sections 3 and 4), with the real model.

Parts (``--parts``, default all; each part replaces its own entry of ``benchmarks/results/hvp_strategy.json``):

* ``hvp``: at 64 / 128 / 256 / 510 tokens (SST-2 dev sentences concatenated and cut at a token boundary), the cost
  of one Hessian-vector product (HVP) through the engine (``ReducedFunction.hessian_columns`` at ``points`` path points
  with ``directions`` products each: 7 selected groups and the path direction, the gradient's cost amortised
  over them) for each strategy: ``batched`` (one backward batched over the directions, ``is_grads_batched``),
  ``loop`` (one double-backward pass per direction over the retained graph), ``forward`` (``torch.func.jvp`` of
  ``torch.func.grad`` per direction), and ``batched`` as before this change (``internal_batch_size=16``, no
  element budget). Against one gradient at the same points (forward + backward) in the same context (twice-
  differentiable "math" attention) and in Integrated Gradients' own context (fused attention). All measured in
  one process, interleaved, ``repeats`` times; medians.
* ``memory``: peak resident memory (``ru_maxrss`` of a fresh subprocess) at the default settings on a 512-token
  text: Integrated Gradients (the explainer's ``interactions=False`` call) and the first HVPs of Integrated
  Hessians (the adaptive search and two path points of the default strategy, stopped there).
* ``adaptive``: path points the adaptive rules take on the first SST-2 dev sentences and on the train sentence
  of issue 16 whose f(x) - f(x') is small against the path's variation, for the explained class POSITIVE:
  Integrated Hessians' rule (from its scalar search alone, no HVP; before this change, i.e. tolerance
  ``max(rtol |delta|, atol)`` without noise-floor detection, and after), and Integrated Gradients' rule (the
  explainer's attributions call).

    python benchmarks/bench_hvp_strategy.py [--quick] [--parts hvp memory adaptive]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

NAME = "hvp_strategy"
THIS = Path(__file__).resolve()
NEAR_ZERO_SENTENCE = "my big fat greek wedding is not only the best date movie of the year"
STRATEGIES = {  # name -> ReducedFunction options
    "batched": dict(hvp_strategy="batched"),
    "loop": dict(hvp_strategy="loop"),
    "forward": dict(hvp_strategy="forward"),
    "batched_before": dict(hvp_strategy="batched", internal_batch_size=16, max_batch_elements=None),
}


def _median(values):
    import numpy as np

    return float(np.median(values))


# ---------------------------------------------------------------------------------------------------- hvp
def measure_length(explainer, tok, sentences, tokens: int, points: int, repeats: int, strategies) -> dict:
    import numpy as np
    import torch

    from transformers_ih.engine import ReducedFunction

    case = common.Case(explainer, common.long_text(tok, sentences, tokens))
    ts = np.linspace(0.3, 0.7, points)
    directions = [list(range(7))]  # 7 selected groups + the path direction = 8 products per point
    per_point = len(directions[0]) + 1

    def reduced(**options):
        return ReducedFunction(case.f, case.x, case.x_base, groups=case.token_word, **options)

    def clock() -> tuple[float, float]:
        return time.process_time(), time.perf_counter()

    def since(t0) -> tuple[float, float]:
        return tuple(b - a for a, b in zip(t0, clock()))

    def gradient(interactions: bool) -> tuple[float, float]:
        red = reduced()
        with case.engine_context(interactions):  # (its set-up runs a forward pass: not timed)
            t0 = clock()
            red.gradients(ts)
            return since(t0)

    def hvp(name: str) -> tuple[float, float]:
        red = reduced(**STRATEGIES[name])
        with case.engine_context(True):
            t0 = clock()
            red.hessian_columns(ts, directions)
            elapsed = since(t0)
        assert red.hvp_count == points * per_point
        return elapsed

    jobs = {"gradient_math": lambda: gradient(True), "gradient_ig": lambda: gradient(False)}
    jobs.update({f"hvp_{name}": (lambda name=name: hvp(name)) for name in strategies})
    # correctness first (and a warm-up): every strategy's products agree with the loop's
    values = {}
    for name in strategies:
        red = reduced(**STRATEGIES[name])
        with case.engine_context(True):
            values[name] = red.hessian_columns(ts, directions).along
    ref = values.get("loop", next(iter(values.values())))
    agreement = {name: float(np.abs(v - ref).max() / np.abs(ref).max()) for name, v in values.items()}
    gradient(True)
    gradient(False)
    times = {name: [] for name in jobs}
    for r in range(repeats):
        order = list(jobs)
        order = order[r % len(order) :] + order[: r % len(order)]  # rotate: no job always runs first
        for name in order:
            times[name].append(jobs[name]())
    # CPU time of this process (primary: with one thread it is what the work costs, whatever else the shared
    # machine runs) and wall time
    med = {name: _median([c for c, _ in v]) for name, v in times.items()}
    med_wall = {name: _median([w for _, w in v]) for name, v in times.items()}
    grad_ms = 1000 * med["gradient_math"] / points
    grad_wall_ms = 1000 * med_wall["gradient_math"] / points
    out = {
        "tokens": case.L,
        "words": case.W,
        "points": points,
        "products_per_point": per_point,
        "gradient_math_ms": grad_ms,
        "gradient_ig_ms": 1000 * med["gradient_ig"] / points,
        "gradient_math_wall_ms": grad_wall_ms,
        "gradient_ig_wall_ms": 1000 * med_wall["gradient_ig"] / points,
        "times_s": {name: {"cpu": [c for c, _ in v], "wall": [w for _, w in v]} for name, v in times.items()},
        "relative_difference_to_loop": agreement,
        "strategies": {},
        "torch_threads": torch.get_num_threads(),
        "load_average": list(__import__("os").getloadavg()),
    }
    for name in strategies:
        per_hvp = 1000 * med[f"hvp_{name}"] / (points * per_point)
        per_hvp_wall = 1000 * med_wall[f"hvp_{name}"] / (points * per_point)
        out["strategies"][name] = {
            "per_hvp_ms": per_hvp,
            "ratio_to_gradient": per_hvp / grad_ms,
            "ratio_to_ig_gradient": per_hvp / out["gradient_ig_ms"],
            "per_hvp_wall_ms": per_hvp_wall,
            "wall_ratio_to_gradient": per_hvp_wall / grad_wall_ms,
        }
    auto = reduced().resolved_hvp_strategy()
    out["auto"] = auto
    return out


def part_hvp(cfg: dict) -> dict:
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok)
    sentences = [s for _, s in common.dev_sentences()]
    rows = []
    for tokens in cfg["lengths"]:
        points = cfg["points"]
        strategies = [s for s in cfg["strategies"] if tokens <= cfg["max_tokens"].get(s, 10**9)]
        common.log(NAME, f"hvp: {tokens} tokens, strategies {strategies}")
        row = measure_length(explainer, tok, sentences, tokens, points, cfg["repeats"], strategies)
        rows.append(row)
        common.log(NAME, json.dumps({k: v for k, v in row.items() if k not in ("times_s",)}, default=str))
    return {"lengths": rows, "device": "cpu", "torch_threads": torch.get_num_threads()}


# ---------------------------------------------------------------------------------------------------- memory
class _Stop(Exception):
    pass


def child(payload: dict) -> dict:
    import numpy as np
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer
    from transformers_ih.engine import ReducedFunction
    from transformers_ih.engine.integrated_hessians import integrated_hessians_reduced
    from transformers_ih.engine.path import PathSettings

    if payload.get("max_batch_elements", "auto") != "auto":
        ReducedFunction.CPU_MAX_BATCH_ELEMENTS = payload["max_batch_elements"]
    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok)
    text = common.long_text(tok, [s for _, s in common.dev_sentences()], payload["tokens"])
    out = {
        "what": payload["what"],
        "tokens": payload["tokens"],
        "rss_after_load_mb": common.current_rss_mb(),
        "torch_threads": torch.get_num_threads(),
        "max_batch_elements": payload.get("max_batch_elements", "auto"),
    }
    t0 = time.perf_counter()
    try:
        if payload["what"] == "attributions":
            e = explainer(text, interactions=False)
            out.update(
                words=len(e.words),
                steps=e.steps,
                time_s=time.perf_counter() - t0,
                relative_completeness_error=e.completeness_error / abs(e.f_input - e.f_baseline),
            )
        else:  # the adaptive search, then the products at the first two path points (default strategy)
            case = common.Case(explainer, text)
            red = ReducedFunction(case.f, case.x, case.x_base, groups=case.token_word)

            class Progress:
                total, done = None, 0

                def update(self, n):
                    self.done += n
                    if self.done >= 2 * (payload["rows"] + 1):
                        raise _Stop

            with case.engine_context(True):
                try:
                    integrated_hessians_reduced(
                        red, PathSettings(), progress=Progress(), rows=[list(range(payload["rows"]))]
                    )
                except _Stop:
                    pass
            out.update(
                words=case.W,
                strategy=red.resolved_hvp_strategy(),
                hvps_done=red.hvp_count,
                time_s=time.perf_counter() - t0,
            )
    except Exception as exc:  # noqa: BLE001 - an allocation failure is a result here
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
    out["peak_rss_mb"] = common.peak_rss_mb()
    del np
    return out


def part_memory(cfg: dict) -> dict:
    runs = []
    for payload in cfg["memory_runs"]:
        r = common.run_child(THIS, {"tokens": cfg["memory_tokens"], **payload}, address_space_gb=12.0)
        r.setdefault("what", payload["what"])
        runs.append(r)
        common.log(NAME, f"memory: {json.dumps(r)[:600]}")
    return {"tokens": cfg["memory_tokens"], "runs": runs, "address_space_cap_gb": 12.0}


# ---------------------------------------------------------------------------------------------------- adaptive
def part_adaptive(cfg: dict) -> dict:
    import warnings

    import numpy as np
    import torch

    from transformers_ih import SequenceClassificationInteractionExplainer
    from transformers_ih.engine import ReducedFunction
    from transformers_ih.engine.adaptive import adaptive_rules
    from transformers_ih.text.targets import class_selector

    model, tok = common.load_real_model()
    explainer = SequenceClassificationInteractionExplainer(model, tok)
    sentences = [s for _, s in common.dev_sentences()][: cfg["adaptive_sentences"]]
    # the rule before issue 16: tolerance max(rtol |delta|, atol), no noise-floor detection
    rules = {"before": dict(variation_rtol=0.0, eps=0.0), "after": {}}

    def ih_rules(sentence: str, target: int | None = None) -> dict:
        """Integrated Hessians' adaptive rule on the explainer's own function (the explained class ``target``,
        default the predicted one), with the node cost of its full matrix, before and after; no HVP."""
        enc = explainer.encode([sentence])
        x, x_base, _ = explainer.baseline_embeddings(enc, "pad")
        if target is None:
            target = int(explainer.forward(enc).logits[0].argmax())
        select = class_selector(target, "logit")
        red = ReducedFunction(explainer.scalar_function(enc, select), x, x_base, groups=enc.token_word)
        out = {"words": red.num_groups}
        context, _ = explainer.engine_context(enc, select, interactions=True)
        with context, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name, options in rules.items():
                kwargs = {"eps": float(torch.finfo(red.dtype).eps), **options}
                ((rule, info),) = adaptive_rules(
                    red.path_derivatives,
                    1,
                    "log",
                    rtol=explainer.rtol,
                    atol=explainer.atol,
                    max_nodes=explainer.max_nodes,
                    panel_nodes=6,
                    node_costs=[(red.num_groups + 1) / 2],
                    **kwargs,
                )
                delta = info.f_input - info.f_baseline
                out[name] = {
                    "nodes": len(rule),
                    "scalar_evaluations": info.scalar_evaluations,
                    "delta": delta,
                    "variation": info.variation,
                    "tolerance": info.tolerance,
                    "estimated_error": info.estimated_error,
                    "completeness_error": info.completeness_error,
                    "relative_completeness_error": info.completeness_error / abs(delta),
                    "converged": bool(info.converged),
                    "stagnated": bool(info.stagnated),
                    "capped": bool(info.capped),
                }
        out["warnings"] = sorted({w.category.__name__ for w in caught})
        return out

    def ig_call(sentence: str, target=None) -> dict:
        e = explainer(sentence, interactions=False, **({} if target is None else {"target": target}))
        return {
            "nodes": e.steps,
            "scalar_evaluations": e.meta.get("scalar_evaluations"),
            "delta": e.f_input - e.f_baseline,
            "completeness_error": e.completeness_error,
            "converged": e.meta.get("converged"),
        }

    ih, ig = [], []
    for i, s in enumerate(sentences):
        ih.append(ih_rules(s))
        ig.append(ig_call(s))
        common.log(
            NAME,
            f"adaptive {i}: IH {ih[-1]['before']['nodes']} -> {ih[-1]['after']['nodes']} nodes, IG {ig[-1]['nodes']}",
        )
    near = {
        "sentence": NEAR_ZERO_SENTENCE,
        "target": "POSITIVE",
        "ih": ih_rules(NEAR_ZERO_SENTENCE, model.config.label2id["POSITIVE"]),
        "ig": ig_call(NEAR_ZERO_SENTENCE, "POSITIVE"),
    }
    summary = {}
    for name in rules:
        nodes = [r[name]["nodes"] for r in ih]
        summary[name] = {
            "nodes": common.summary(nodes),
            "near_zero_nodes": near["ih"][name]["nodes"],
            "max_over_median": max(nodes + [near["ih"][name]["nodes"]]) / float(np.median(nodes)),
            "scalar_evaluations": common.summary([r[name]["scalar_evaluations"] for r in ih]),
            "not_converged": sum(not r[name]["converged"] for r in ih),
            "max_relative_completeness_error_where_delta_not_tiny": max(
                [
                    r[name]["relative_completeness_error"]
                    for r in ih
                    if abs(r[name]["delta"]) >= r[name]["variation"] / 10
                ]
                or [0.0]
            ),
        }
    ig_nodes = [r["nodes"] for r in ig]
    summary["ig"] = {
        "nodes": common.summary(ig_nodes),
        "near_zero_nodes": near["ig"]["nodes"],
        "max_over_median": max(ig_nodes + [near["ig"]["nodes"]]) / float(np.median(ig_nodes)),
    }
    return {"sentences": len(sentences), "ih": ih, "ig": ig, "near_zero": near, "summary": summary}


# ---------------------------------------------------------------------------------------------------- main
def main(argv=None):
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(child(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings (validation)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--parts", nargs="*", choices=["hvp", "memory", "adaptive"], default=None)
    parser.add_argument("--lengths", nargs="*", type=int, default=None, help="token lengths of the hvp part")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--strategies", nargs="*", default=None, choices=list(STRATEGIES))
    args = parser.parse_args(argv)
    args.out = args.out or (common.QUICK_RESULTS if args.quick else common.RESULTS)
    quick = args.quick
    cfg = dict(
        lengths=[32, 64] if quick else [64, 128, 256, 510],
        points=2,
        repeats=1 if quick else 3,
        # "batched_before" at 510 tokens costs ~1.8 s per product: measured up to 256, its slope known from there
        max_tokens={},
        memory_tokens=128 if quick else 512,
        memory_runs=[{"what": "attributions"}, {"what": "interactions", "rows": 8}],
        adaptive_sentences=5 if quick else 40,
    )
    cfg["lengths"] = args.lengths or cfg["lengths"]
    cfg["repeats"] = args.repeats or cfg["repeats"]
    cfg["strategies"] = args.strategies or list(STRATEGIES)
    path = Path(args.out) / f"{NAME}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    rec = common.Recorder(NAME, args, **cfg)
    for key in ("hvp", "memory", "adaptive"):  # parts not re-run keep their previous results
        if key in previous:
            rec[key] = previous[key]
    for part in args.parts or ["hvp", "memory", "adaptive"]:
        t0 = time.perf_counter()
        rec[part] = {
            **globals()[f"part_{part}"](cfg),
            "wall_s": time.perf_counter() - t0,
            "machine": common.machine_info(),
        }
        rec.save()


if __name__ == "__main__":
    main()
