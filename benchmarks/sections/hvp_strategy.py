"""Section of ``bench_hvp_strategy.py``: the cost of a Hessian-vector product per strategy and input length, peak
memory at 512 tokens, and the adaptive rule's node counts near f(x) = f(x')."""

from __future__ import annotations

from .base import NO_RESULTS, Section, Target, fe, fr, table

TITLE = "Hessian-vector products at length, memory, and the adaptive rule near f(x) = f(x')"
MAX_RATIO = 2.5  # target: one HVP at most this many gradients at 256 and 512 tokens
TARGET_LENGTHS = (256, 510)
MAX_PEAK_GB = 2.0  # target: IG on a 512-token text
MAX_NODES_OVER_MEDIAN = 3.0  # target: no sentence needs more than this many times the median number of path points
NAMES = {
    "batched": "batched (now)",
    "loop": "loop",
    "forward": "forward-over-reverse",
    "batched_before": "batched (before)",
}


def _ms(x) -> str:
    return "-" if x is None else f"{x:.0f}"


def _hvp(d: dict) -> tuple[list[str], list[Target]]:
    rows_in = d.get("lengths", [])
    if not rows_in:
        return [], []
    names = [n for n in NAMES if any(n in r["strategies"] for r in rows_in)]
    rows = []
    for r in rows_in:
        cells = [r["tokens"], r["words"], _ms(r["gradient_math_ms"]), _ms(r["gradient_ig_ms"])]
        for n in names:
            s = r["strategies"].get(n)
            cells.append(f"{_ms(s['per_hvp_ms'])} ({fr(s['ratio_to_gradient'])})" if s else "-")
        cells.append(r["auto"])
        rows.append(cells)
    first = rows_in[0]
    slowdown = max(r["gradient_math_wall_ms"] / r["gradient_math_ms"] for r in rows_in)
    lines = [
        f"Per Hessian-vector product (HVP), in ms of this process's CPU time (one torch thread), through the "
        f"engine (`ReducedFunction.hessians`) at {first['points']} path points with {first['products_per_point']} "
        f"products each (7 selected rows and the path direction; the gradient's cost shared among them), median "
        f"of {len(first['times_s']['gradient_math']['cpu'])} interleaved repeats; in brackets the ratio to one "
        f"gradient (forward + backward) at the same points with the same twice-differentiable attention. "
        f'"batched (before)" is the engine before this change (`internal_batch_size=16`, no element budget); '
        f'"batched (now)" has the CPU element budget, which at long inputs leaves it a few directions per '
        f"backward pass. CPU time, not wall time: the 2-core machine was shared (load average "
        f"{min(r['load_average'][0] for r in rows_in):.1f}-{max(r['load_average'][0] for r in rows_in):.1f}), "
        f"which multiplied wall times by up to {slowdown:.0f}x but not the work done. Text: SST-2 dev sentences "
        f"concatenated and cut at a token boundary.",
        "",
        table(
            ["tokens", "words", "gradient ms", "gradient ms (IG's fused attention)"]
            + [f"{NAMES[n]} ms/HVP (ratio)" for n in names]
            + ["`auto` picks"],
            rows,
        ),
        "",
        'The rule `hvp_strategy="auto"` follows from these numbers (`ReducedFunction.resolved_hvp_strategy`): '
        "on the CPU, batched below ~96 tokens of this model (`CPU_BATCHED_MAX_ELEMENTS` = 96 x 384 input "
        "entries per row), the loop of double-backward passes from there (as cheap or cheaper, and it holds one "
        "direction's tensors at a time); forward-over-reverse never won. On accelerators batched (not measured "
        "here: no GPU was lent to this task); the copy-per-product fallback stays for models whose ops cannot "
        "be batched over directions.",
    ]
    targets = []
    for length in TARGET_LENGTHS:
        r = next((r for r in rows_in if r["tokens"] == length), None)
        if r is None:
            continue
        s = r["strategies"][r["auto"]]
        targets.append(
            Target(
                f"HVP/gradient cost at {length} tokens",
                f"<= {MAX_RATIO:g}",
                f"{fr(s['ratio_to_gradient'])} ({r['auto']}; {fr(s['ratio_to_ig_gradient'])} of IG's gradient)",
                s["ratio_to_gradient"] <= MAX_RATIO,
            )
        )
    return lines, targets


def _memory(d: dict) -> tuple[list[str], list[Target]]:
    runs = d.get("runs", [])
    if not runs:
        return [], []
    rows = []
    for r in runs:
        what = (
            "attributions (IG), the explainer's default call"
            if r["what"] == "attributions"
            else f"interactions (IH): adaptive search, then {r.get('hvps_done', '?')} HVPs ({r.get('strategy', '?')})"
        )
        rows.append(
            [
                what,
                r.get("words", "-"),
                f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-",
                f"{r.get('rss_after_load_mb', 0):.0f}",
                r.get("error", ""),
            ]
        )
    lines = [
        f"Peak resident memory on a {d['tokens']}-token text at the default settings, each in a fresh "
        f"subprocess (`ru_maxrss`; model and libraries included). The engine's CPU element budget "
        f"(`max_batch_elements`, default 1,000,000 input entries per call weighted by the pass's memory) "
        f"bounds the rows per model call whatever `internal_batch_size` is: 5 rows of 512 tokens for a "
        f"gradient, 2 for second derivatives and HVPs. Before it, IG at 512 tokens peaked at 2.5 GB with 29 "
        f"rows per call (`long_input`), and the IH search at 9.3 GB.",
        "",
        table(["what", "words", "peak RSS MiB", "RSS after loading MiB", "error"], rows),
    ]
    targets = []
    ig = next((r for r in runs if r["what"] == "attributions" and "peak_rss_mb" in r), None)
    if ig:
        gb = ig["peak_rss_mb"] / 1024
        targets.append(
            Target(
                f"IG peak memory at {d['tokens']} tokens",
                f"<= {MAX_PEAK_GB:g} GB",
                f"{gb:.2f} GB",
                gb <= MAX_PEAK_GB and not ig.get("error"),
            )
        )
    return lines, targets


def _adaptive(d: dict) -> tuple[list[str], list[Target]]:
    summary = d.get("summary")
    if not summary:
        return [], []
    near = d["near_zero"]
    rows = []
    for name, label in (("before", "IH rule, before"), ("after", "IH rule, now"), ("ig", "IG rule, now")):
        s = summary[name]
        if name == "ig":
            info = near["ig"]
            near_cell = f"{info['nodes']} (completeness error {fe(info['completeness_error'])})"
            extra = ["-", "-"]
        else:
            info = near["ih"][name]
            state = (
                "converged"
                if info["converged"]
                else "stagnated"
                if info["stagnated"]
                else "capped"
                if info["capped"]
                else "not converged"
            )
            near_cell = (
                f"{info['nodes']} ({state}; estimated error {fe(info['estimated_error'])}, tolerance "
                f"{fe(info['tolerance'])})"
            )
            extra = [s["not_converged"], fe(s["max_relative_completeness_error_where_delta_not_tiny"])]
        rows.append(
            [
                label,
                f"{s['nodes']['median']:.0f}",
                f"{s['nodes']['max']:.0f}",
                near_cell,
                fr(s["max_over_median"]),
                *extra,
            ]
        )
    ih_near = near["ih"]["after"]
    lines = [
        f"Path points of the adaptive rules on the first {d['sentences']} SST-2 dev sentences (the predicted "
        f'class) and on the train sentence "{near["sentence"]}" explained for {near["target"]} (f(x) - f(x\') '
        f"= {ih_near['delta']:.3f} against a path variation of {ih_near['variation']:.2f}). The IH rule ran "
        f"its scalar search alone (the node cost of its full matrix, so coarsened as in the explainer); "
        f'"before" is the tolerance max(rtol |delta|, atol) without noise-floor detection. Now the tolerance '
        f"is max(rtol |delta|, atol, rtol/10 x variation) and the rule stops, reporting the error reached, "
        f"once its panel errors stop shrinking at the float noise floor.",
        "",
        table(
            [
                "rule",
                "median nodes (dev)",
                "max nodes (dev)",
                "nodes on the near-zero sentence",
                "max / median",
                "dev sentences not converged",
                "max relative completeness error where f(x) - f(x') is at least a tenth of the variation",
            ],
            rows,
        ),
    ]
    s = summary["after"]
    targets = [
        Target(
            "Adaptive IH rule: max nodes / median (dev + near-zero sentence)",
            f"<= {MAX_NODES_OVER_MEDIAN:g}",
            fr(s["max_over_median"]),
            s["max_over_median"] <= MAX_NODES_OVER_MEDIAN,
        )
    ]
    return lines, targets


def render(d: dict, out=None) -> Section:
    parts = [(_hvp, d.get("hvp", {})), (_memory, d.get("memory", {})), (_adaptive, d.get("adaptive", {}))]
    lines, targets = [], []
    for render_part, data in parts:
        part_lines, part_targets = render_part(data)
        if part_lines:
            lines += part_lines + [""]
        targets += part_targets
    if not lines:
        return Section(TITLE, NO_RESULTS)
    limits = (
        "- HVP strategies: measured on this CPU only (no GPU lent to this task); on accelerators `auto` picks "
        "the batched strategy without a measurement here. Per-HVP costs are CPU time with one torch thread.",
    )
    return Section(TITLE, "\n".join(lines).rstrip(), tuple(targets), limits)
