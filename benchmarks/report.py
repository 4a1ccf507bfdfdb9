"""(Re)generate ``BENCHMARKS.md`` and ``benchmarks/results/accuracy_per_evaluation.html`` from the JSON results.

    python benchmarks/report.py                 # benchmarks/results/*.json -> BENCHMARKS.md
    python benchmarks/report.py --quick         # benchmarks/results/quick/*.json -> benchmarks/results/quick/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402

LOAD_NOTE_THRESHOLD = 2.3  # a benchmark's own 2 torch threads give a load average of about 2


# ---------------------------------------------------------------------------------------------------- formatting
def fs(x, digits=2) -> str:
    """Seconds."""
    if x is None:
        return "-"
    if x >= 3600:
        return f"{x / 3600:.1f} h"
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.{digits}g} s" if x < 10 else f"{x:.1f} s"
    return f"{x * 1000:.0f} ms" if x >= 0.01 else f"{x * 1000:.1f} ms"


def fe(x) -> str:
    """Errors."""
    if x is None:
        return "-"
    return f"{x:.1e}"


def fr(x) -> str:
    """Ratios."""
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}x"
    if x >= 10:
        return f"{x:.0f}x"
    return f"{x:.2f}x"


def table(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def load(results: Path) -> tuple[dict, list[str]]:
    """This suite's results (files with a ``benchmark`` key), and the names of other JSON files in the folder."""
    data, others = {}, []
    for p in sorted(results.glob("*.json")):
        try:
            d = json.loads(p.read_text())
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict) and "benchmark" in d and "machine_start" in d:
            data[p.stem] = d
        else:
            others.append(p.name)
    return data, others


# ---------------------------------------------------------------------------------------------------- machine
def machine_section(data: dict) -> tuple[str, bool]:
    if not data:
        return "No results yet: run `python benchmarks/run_all.py`.", False
    first = next(iter(data.values()))["machine_start"]
    loads = []
    rows = []
    for name, d in data.items():
        a, b = d["machine_start"]["load_average"][0], d.get("machine_end", d["machine_start"])["load_average"][0]
        loads += [a, b]
        cases = d.get("cases", [])
        kept = [c for c in cases if c.get("run")]
        label = name
        threads = d["machine_start"].get("torch_threads")
        if kept:  # a partial re-run: its own cases, and those kept from the earlier run
            mine = [c for c in cases if not c.get("run")]
            label = f"{name}: {', '.join(sorted({c['kind'] for c in mine}))} cases (re-run)"
            threads = ", ".join(str(x) for x in sorted({c.get("started", {}).get("torch_threads") for c in mine}))
            run = kept[0]["run"]
            ka = run["machine_start"]["load_average"][0]
            kb = (run.get("machine_end") or run["machine_start"])["load_average"][0]
            loads += [ka, kb]
            rows.append([f"{name}: {', '.join(sorted({c['kind'] for c in kept}))} cases (full run)",
                         run["machine_start"]["time"], "-", f"{ka:.2f}", f"{kb:.2f}",
                         run["machine_start"].get("torch_threads")])
        elif cases and cases[0].get("started"):
            threads = ", ".join(str(x) for x in sorted({c["started"]["torch_threads"] for c in cases}))
        rows.append([label, d["machine_start"]["time"], fs(d.get("wall_s")), f"{a:.2f}", f"{b:.2f}", threads])
    shared = max(loads) > LOAD_NOTE_THRESHOLD
    busy = [r[0] for r in rows if max(float(r[3]), float(r[4])) > LOAD_NOTE_THRESHOLD]
    text = [
        f"- **CPU**: {first['cpu_model']}, {first['cores']} cores, {first['memory_gb']} GB RAM; {first['platform']}",
        f"- **Software**: Python {first['python']}, torch {first['torch']} (CPU build, {first['torch_threads']} "
        f"threads), transformers {first['transformers']}, captum {first['captum']}, transformers-interpret "
        f"{first['transformers_interpret']}, path-explain {first['path_explain']}",
        "- **GPU**: none. No GPU was lent to this task; every number here is CPU-only.",
    ]
    if shared:
        text.append(f"- **Shared CPU**: other processes shared this machine's 2 cores during {', '.join(busy)} "
                    f"(1-minute load average up to {max(loads):.1f}, over {LOAD_NOTE_THRESHOLD}, where a benchmark's own "
                    f"2 threads give about 2; see the table). Absolute times there are "
                    f"inflated and noisy (repeat timings of the same call varied up to ~10x between minutes). Two torch "
                    f"threads on a shared 2-core CPU stall at every parallel region while another process holds a core, "
                    f"which hits small operations hardest, so the tiny-model part of benchmark 1 was re-run with one "
                    f"thread (both sides alike); everything else ran with torch's default of 2. Every comparison runs "
                    f"both sides in the same process within seconds of each other, so ratios are more reliable than "
                    f"absolute times.")
    text.append("")
    text.append(table(["benchmark", "started", "wall time", "load avg at start", "load avg at end", "torch threads"],
                      rows))
    return "\n".join(text), shared


# ---------------------------------------------------------------------------------------------------- 1
def section_path_explain(d: dict, targets: list) -> str:
    out = []
    ram = d["machine_start"].get("memory_gb") or 0
    cases = d.get("cases", [])
    out.append("Their time: **m** = measured (their call ran to the end), **e** = extrapolated from a probe of their "
               "own code: T = k (A + n B), with k = sqrt(num_samples) outer points, A = the inner IG per outer point, "
               "B = one per-feature backward pass (timed over the first "
               f"{d['settings'].get('probe_features')} features; the probe times only their `grad` calls, not their loop's "
               "bookkeeping). "
               + _prediction_quality(cases) + ". Their completeness error is measured by their "
               "own code on one coordinate per word (summing their flattened matrix by word gives exactly that matrix; "
               + _flat_vs_word(cases) + "), or, marked *, from the closed form of their rule "
               "(t = a_i b_j on an i/(k-1) grid, equal weights), which equals their code's result wherever both ran ("
               + _formula_vs_code(cases) + ").")
    out.append("")
    # summary table per case
    rows = []
    for c in cases:
        ours_default = c["ours"][0]
        for t in c["theirs"]:
            m = next((x for x in c["matched"] if x["num_samples"] == t["num_samples"]), {})
            rows.append([c["label"], c["features"], t["num_samples"],
                         fs(t["time_s"]) + (" (m)" if t["time_status"] == "measured" else " (e)"),
                         fe(t["completeness_error"]) + ("" if t["error_source"].startswith("their code") else "*"),
                         m.get("ours") or "none as good", fs(m.get("our_time_s")), fe(m.get("our_error")),
                         fr(m.get("time_ratio")), fr(m.get("engine_time_ratio"))])
    out.append("**Time at equal or better completeness error** (absolute error, logit units): for each of their "
               "`num_samples`, our fastest run (explainer end to end; engine alone in the last column) whose error is "
               "at most theirs.")
    out.append("")
    out.append(table(["case", "features (L*e)", "their num_samples", "their time", "their error", "our run",
                      "our time", "our error", "time ratio (theirs/ours)", "engine-only ratio"], rows))
    out.append("")
    # ours per case
    rows = []
    for c in cases:
        for o in c["ours"]:
            rows.append([c["label"], o["setting"], o["steps"], fs(o["time_s"]), fs(o.get("engine_time_s")),
                         fe(o["completeness_error"]), fe(o["completeness_error"] / abs(o["f_delta"]))])
    out.append("<details><summary>Our runs per case</summary>\n")
    out.append(table(["case", "rule", "path points", "time (explainer)", "time (engine)", "completeness error",
                      "relative"], rows))
    out.append("\n</details>\n")
    # real model
    real = [c for c in cases if c.get("kind") == "real"]
    for c in real:
        t256 = next((t for t in c["theirs"] if t["num_samples"] == 256), None)
        ours = c["ours"][0]
        if t256:
            acc = t256["completeness_error"] / max(ours["completeness_error"], 1e-300)
            spd = t256["time_s"] / ours["time_s"]
            wc = t256["word_coordinates_time_s"]
            out.append(f"- **{c['label']}** ({c['features']:,} flattened features): our default "
                       f"{fs(ours['time_s'])}, error {fe(ours['completeness_error'])}; path_explain at 256 samples "
                       f"{fs(t256['time_s'])} ({'measured' if t256['time_status'] == 'measured' else 'extrapolated'}) "
                       f"on the flattened embeddings (their (k, n, n) float32 interaction tensor is "
                       f"{t256['probe']['interaction_tensor_gb']:.1f} GB and its product with the input differences "
                       f"another as large: {2 * t256['probe']['interaction_tensor_gb']:.1f} GB at the end of the call, "
                       f"of this machine's {ram:g} GB), error {fe(t256['completeness_error'])}"
                       f"{'' if t256['error_source'].startswith('their code') else ' (closed form of their rule)'}: "
                       f"ours is **{fr(acc)} more accurate and {fr(spd)} faster**. Even given our word reduction "
                       f"(one coordinate per word), their sampling takes {fs(wc)} "
                       f"({t256['word_coordinates_status']}).")
            targets.append(("Interactions vs path_explain, real model: faster and >= 100x more accurate than its "
                            f"256-sample setting ({c['label']})",
                            f"{fr(acc)} more accurate, {fr(spd)} faster",
                            acc >= 100 and spd > 1))
        if c.get("search_breakdown"):
            b = c["search_breakdown"]
            out.append(f"  - Where our time goes on this sentence: the adaptive search ({b['scalar_evaluations']} "
                       f"scalar path evaluations) took {fs(b['search_s'])}; the rest is the Hessians at "
                       f"{b['nodes']} path points = {b['hessian_vector_products']:,} Hessian-vector products.")
    out.append("")
    # tiny: gap vs embedding size
    tiny = [c for c in cases if c.get("kind") == "tiny"]
    if tiny:
        words_fixed = d["settings"].get("words_for_sizes")
        by_e = sorted([c for c in tiny if c["words"] == words_fixed or c["label"].endswith(f"{words_fixed} words")],
                      key=lambda c: c["embedding_size"])
        by_e = _dedupe(by_e, "embedding_size")
        samples = d["settings"].get("samples", [])
        rows = []
        for c in by_e:
            r = [f"e={c['embedding_size']}", c["words"], c["features"]]
            for s in samples:
                m = next((x for x in c["matched"] if x["num_samples"] == s), None)
                r.append(fr(m.get("time_ratio")) if m else "-")
            rows.append(r)
        out.append(f"**Gap vs embedding size** (tiny random BERTs, fixed sentence length): time ratio theirs/ours at "
                   f"equal or better error, per their `num_samples`:")
        out.append("")
        out.append(table(["model", "words", "features"] + [f"n={s}" for s in samples], rows))
        out.append("")
        notes = []
        for c in by_e:
            for m in c["matched"]:
                if m.get("ours") and m["ours"].startswith("adaptive"):
                    notes.append((c["embedding_size"], m["num_samples"], m["ours"], m["our_time_s"]))
        if notes:
            out.append("Where the ratio does not grow with e, our cheapest run as accurate as theirs is an adaptive one ("
                       + "; ".join(f"e={e}, n={n}: {o}, {fs(t)}" for e, n, o, t in notes)
                       + "): that random model's path function is rougher, so our fixed Gauss rules up to 16 points miss "
                         "their error there, while their cost only grows with the number of features.")
            out.append("")
        size_for_len = d["settings"].get("size_for_lengths")
        by_w = _dedupe(sorted([c for c in tiny if c["embedding_size"] == size_for_len], key=lambda c: c["words"]),
                       "words")
        if len(by_w) > 1:
            rows = []
            for c in by_w:
                r = [c["words"], c["tokens"], c["features"]]
                for s in samples:
                    m = next((x for x in c["matched"] if x["num_samples"] == s), None)
                    r.append(fr(m.get("time_ratio")) if m else "-")
                rows.append(r)
            out.append(f"**Gap vs sentence length** (tiny random BERT, e={size_for_len}):")
            out.append("")
            out.append(table(["words", "tokens", "features"] + [f"n={s}" for s in samples], rows))
            out.append("")
        all_ratios = [m["time_ratio"] for c in tiny for m in c["matched"] if m.get("time_ratio")]
        unmatched = sum(1 for c in tiny for m in c["matched"] if not m.get("time_ratio"))
        med = [float(np.median([m["time_ratio"] for m in c["matched"] if m.get("time_ratio")] or [np.nan]))
               for c in by_e]
        per_s = {}
        for s_ in samples:
            vals = [next((m.get("time_ratio") for m in c["matched"] if m["num_samples"] == s_), None) for c in by_e]
            if all(v is not None for v in vals) and len(vals) > 1:
                per_s[s_] = all(b > a for a, b in zip(vals, vals[1:]))
        widening = all(per_s.values()) if per_s else None
        if all_ratios:
            targets.append(("Interactions vs path_explain, tiny smooth models: >= 100x less time at equal or better "
                            "error",
                            f"min {fr(min(all_ratios))}, median {fr(float(np.median(all_ratios)))} over "
                            f"{len(all_ratios)} (model, num_samples) pairs"
                            + (f"; {unmatched} of their settings had no run of ours as accurate" if unmatched else ""),
                            min(all_ratios) >= 100 and unmatched == 0))
            grows = [str(k) for k, v in per_s.items() if v]
            not_grows = [str(k) for k, v in per_s.items() if not v]
            targets.append(("... the gap widening with embedding size",
                            "median ratio per size " + ", ".join(f"e={c['embedding_size']}: {fr(v)}"
                                                                  for c, v in zip(by_e, med))
                            + (f"; widens monotonically for num_samples {', '.join(grows)}" if grows else "")
                            + (f"; not for {', '.join(not_grows)} (see the gap table)" if not_grows else ""),
                            widening if widening or not grows else "partly"))
    return "\n".join(out)


def _dedupe(cases, key):
    seen, out = set(), []
    for c in cases:
        if c[key] not in seen:
            seen.add(c[key])
            out.append(c)
    return out


def _prediction_quality(cases) -> str:
    v = [t["flat_prediction_vs_measured"] for c in cases for t in c["theirs"] if t.get("flat_prediction_vs_measured")]
    if not v:
        return "No flattened run finished under the time limit, so the prediction is unchecked in this run"
    return (f"Where their flattened call also ran to the end, the probe predicted {min(v) * 100:.0f}-"
            f"{max(v) * 100:.0f}% of the measured time ({len(v)} checks)")


def _flat_vs_word(cases) -> str:
    v = [t["flat_vs_word_max_abs_diff"] for c in cases for t in c["theirs"] if t.get("flat_vs_word_max_abs_diff") is not None]
    if not v:
        return "not checked in this run"
    return f"checked where their flattened run finished: max abs difference {max(v):.1e}"


def _formula_vs_code(cases) -> str:
    v = [abs(t["completeness_error"] - t["completeness_error_formula"]) for c in cases for t in c["theirs"]
         if t["error_source"].startswith("their code")]
    if not v:
        return "no check"
    return f"max difference {max(v):.1e} over {len(v)} runs"


# ---------------------------------------------------------------------------------------------------- 2
RULE_ORDER = ["ours: adaptive", "ours: gauss", "paper: Monte Carlo", "paper: grid (path_explain)",
              "paper: midpoint grid"]
IG_ORDER = ["ours: adaptive", "ours: gauss-legendre", "riemann_middle", "riemann_trapezoid"]


def accuracy_curves(d: dict, key: str, adaptive_key: str):
    """``{rule: [(points, median error, p10, p90, extra), ...]}`` over sentences."""
    per = d.get("per_sentence", [])
    curves = {}
    by = {}
    for s in per:
        for r in s[key]:
            by.setdefault(r["rule"], {}).setdefault(r["points"], []).append(r["relative_error"])
    for rule, pts in by.items():
        curves[rule] = [(p, float(np.median(v)), float(np.percentile(v, 10)), float(np.percentile(v, 90)), None)
                        for p, v in sorted(pts.items())]
    ad = {}
    for s in per:
        for a in s[adaptive_key]:
            ad.setdefault(a["rtol"], []).append(a)
    rows = []
    for rtol, lst in sorted(ad.items(), reverse=True):
        errs = [a["relative_error"] for a in lst]
        rows.append((float(np.median([a["nodes"] for a in lst])), float(np.median(errs)),
                     float(np.percentile(errs, 10)), float(np.percentile(errs, 90)),
                     {"rtol": rtol, "search": float(np.median([a["search_evaluations"] for a in lst])),
                      "max_nodes": max(a["nodes"] for a in lst), "max_error": max(errs),
                      "met": sum(1 for a in lst if a["relative_error"] <= rtol), "n": len(lst)}))
    curves["ours: adaptive"] = rows
    return curves


def section_accuracy(d: dict, results_dir: Path, targets: list) -> str:
    out = []
    per = d.get("per_sentence", [])
    if not per:
        return "No results."
    words = [s["words"] for s in per]
    out.append(f"{len(per)} random SST-2 dev sentences ({min(words)}-{max(words)} words, median "
               f"{int(np.median(words))}), the real model (softplus(beta=20) head, as our explainer runs it), the "
               f"predicted class's logit. Relative completeness error |sum(Gamma) - (f(x) - f(x'))| / |f(x) - f(x')|, "
               f"median over sentences (10th-90th percentile in brackets), against the number of path points at which "
               f"the W x W Hessians are evaluated (each costs W Hessian-vector products). Our adaptive rule also spends "
               f"scalar path evaluations on its search (one forward and two backward passes along t each, about 1/W of "
               f"a path point); they are listed.")
    out.append("")
    curves = accuracy_curves(d, "ih", "ih_adaptive")
    rows = []
    for p, m, lo, hi, extra in curves.get("ours: adaptive", []):
        rows.append([f"ours: adaptive, rtol={extra['rtol']:g}", f"{p:.0f} (max {extra['max_nodes']})",
                     f"{fe(m)} [{fe(lo)}, {fe(hi)}]", f"{extra['search']:.0f}",
                     f"{extra['met']}/{extra['n']}"])
    out.append(table(["rule", "path points (median)", "relative error", "search evaluations (median)",
                      "sentences within rtol"], rows))
    out.append("")
    rules = [r for r in RULE_ORDER if r in curves and r != "ours: adaptive"]
    points = sorted({p for r in rules for p, *_ in curves[r]})
    rows = []
    for r in rules:
        got = {p: (m, lo, hi) for p, m, lo, hi, _ in curves[r]}
        rows.append([r] + [f"{fe(got[p][0])} [{fe(got[p][1])}, {fe(got[p][2])}]" if p in got else "" for p in points])
    out.append(table(["fixed rule \\ path points"] + [str(p) for p in points], rows))
    out.append("")
    # headline: points needed for 1e-3 median
    def first_below(rule, thr):
        for p, m, *_ in curves.get(rule, []):
            if m <= thr:
                return p
        return None
    lines = []
    for thr in (1e-2, 1e-3):
        parts = []
        for r in RULE_ORDER:
            p = first_below(r, thr)
            parts.append(f"{r}: {f'{p:.0f}' if p is not None else 'not reached'}"
                         + (" (median)" if r == "ours: adaptive" and p else ""))
        lines.append(f"- Path points for a median relative error <= {thr:g}: " + "; ".join(
            x if x.split(": ", 1)[1] != "None" else x for x in parts))
    out.extend(lines)
    out.append("")
    # IG
    ig = accuracy_curves(d, "ig", "ig_adaptive")
    rows = []
    for p, m, lo, hi, extra in ig.get("ours: adaptive", []):
        rows.append([f"ours: adaptive, rtol={extra['rtol']:g}", f"{p:.0f}", f"{fe(m)} [{fe(lo)}, {fe(hi)}]",
                     f"{extra['search']:.0f}"])
    ig_rules = [r for r in IG_ORDER if r in ig and r != "ours: adaptive"]
    ig_points = sorted({p for r in ig_rules for p, *_ in ig[r]})
    out.append("Integrated Gradients on the same sentences (uniform measure; Captum's rules: Gauss-Legendre, its "
               "default, and the Riemann sums):")
    out.append("")
    out.append(table(["rule", "path points (median)", "relative error", "search evaluations"], rows))
    out.append("")
    rows = []
    for r in ig_rules:
        got = {p: m for p, m, *_ in ig[r]}
        rows.append([r] + [fe(got.get(p)) for p in ig_points])
    out.append(table(["fixed rule \\ path points"] + [str(p) for p in ig_points], rows))
    out.append("")
    checks = d.get("explainer_check", [])
    if checks:
        diff = max(abs(c["explainer_relative_error"] - c["scalar_relative_error"]) for c in checks)
        out.append(f"Check: the full explainer's `completeness_error` (Hessians at every node) equals the scalar-"
                   f"integrand score used above to {diff:.1e} (relative) on {len(checks)} runs.")
    html = write_figure(curves, ig, results_dir)
    if html:
        out.append("")
        out.append(f"Figure: [`{html.relative_to(common.ROOT)}`]({html.relative_to(common.ROOT)}) (plotly, "
                   f"self-contained).")
    return "\n".join(out)


def write_figure(curves, ig, results_dir: Path):
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "Integrated Hessians: completeness error vs path points",
        "Integrated Gradients: completeness error vs path points"))
    colors = {"ours: adaptive": "#d62728", "ours: gauss": "#ff7f0e", "ours: gauss-legendre": "#ff7f0e",
              "paper: Monte Carlo": "#1f77b4", "paper: grid (path_explain)": "#2ca02c",
              "paper: midpoint grid": "#9467bd", "riemann_middle": "#9467bd", "riemann_trapezoid": "#2ca02c"}
    for col, (cv, order) in enumerate(((curves, RULE_ORDER), (ig, IG_ORDER)), start=1):
        for rule in order:
            if rule not in cv or not cv[rule]:
                continue
            pts = cv[rule]
            x = [p[0] for p in pts]
            y = [p[1] for p in pts]
            lo = [p[1] - p[2] for p in pts]
            hi = [p[3] - p[1] for p in pts]
            text = [f"rtol={p[4]['rtol']:g}, search evaluations {p[4]['search']:.0f}" if p[4] else "" for p in pts]
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=rule, legendgroup=rule,
                                     showlegend=col == 1 or rule not in curves,
                                     line=dict(color=colors.get(rule), dash="solid" if rule.startswith("ours") else "dot"),
                                     error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, thickness=1),
                                     text=text, hovertemplate="%{x} points: median %{y:.2e}<br>%{text}<extra>" + rule
                                     + "</extra>"), row=1, col=col)
        fig.update_xaxes(type="log", title_text="path points (Hessian / gradient evaluations)", row=1, col=col)
        fig.update_yaxes(type="log", title_text="relative completeness error (median, 10-90%)", row=1, col=col)
    fig.update_layout(title="Accuracy per model evaluation: distilbert-mini-sst2 on SST-2 dev sentences",
                      height=560, width=1300, template="plotly_white")
    path = results_dir / "accuracy_per_evaluation.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path


# ---------------------------------------------------------------------------------------------------- 3
def section_captum(d: dict, targets: list) -> str:
    out = []
    rows_in = d.get("sentences", [])
    if not rows_in:
        return "No results."
    s = d["settings"]
    words = [r["words"] for r in rows_in]
    out.append(f"{len(rows_in)} random SST-2 dev sentences with {s['word_range'][0]}-{s['word_range'][1]} words "
               f"({', '.join(str(w) for w in words)} words), the real model unmodified (ReLU head; ours with "
               f"`smoothing=None` so that both sides explain the same function), the predicted class. Times are the "
               f"best of {s['repeats']} (one run for calls over 3 s). Completeness error absolute (logit / probability "
               f"units). Matched: our fastest run with error <= theirs (x{MATCH_SLACK_TEXT}).")
    out.append("")
    for key, theirs_key, label, unit in (("matched_captum", "captum", "Captum LayerIntegratedGradients (logit)", "logit"),
                                         ("matched_transformers_interpret", "transformers_interpret",
                                          "transformers-interpret SequenceClassificationExplainer (probability)",
                                          "probability")):
        out.append(f"**vs {label}**")
        out.append("")
        rows = []
        for n in s["n_steps"]:
            ms = [m for r in rows_in for m in r[key] if m["n_steps"] == n]
            ratios = [m["time_ratio"] for m in ms if m.get("time_ratio")]
            their_t = [m["their_time_s"] for m in ms]
            their_e = [m["their_error"] for m in ms]
            ours_t = [m["our_time_s"] for m in ms if m.get("our_time_s")]
            ours_e = [m["our_error"] for m in ms if m.get("our_error") is not None]
            chosen = sorted({m["ours"] for m in ms if m.get("ours")})
            rows.append([n, fs(float(np.median(their_t))), fe(float(np.median(their_e))),
                         fs(float(np.median(ours_t))) if ours_t else "-",
                         fe(float(np.median(ours_e))) if ours_e else "-", ", ".join(chosen),
                         fr(float(np.median(ratios))) if ratios else "-",
                         f"{fr(min(ratios))} - {fr(max(ratios))}" if ratios else "-",
                         f"{sum(1 for x in ratios if x >= 1)}/{len(ms)}"])
        out.append(table(["their n_steps", "their time (median)", "their error (median)", "our time (median)",
                          "our error (median)", "our runs chosen", "time ratio theirs/ours (median)", "range",
                          "sentences with ours not slower"], rows))
        out.append("")
        allr = [m["time_ratio"] for r in rows_in for m in r[key] if m.get("time_ratio")]
        unmatched = sum(1 for r in rows_in for m in r[key] if not m.get("time_ratio"))
        if allr:
            targets.append((f"Attributions no slower than {label.split(' (')[0]} at matched error",
                            f"time ratio theirs/ours median {fr(float(np.median(allr)))} (range {fr(min(allr))} - "
                            f"{fr(max(allr))}); ours not slower in {sum(1 for x in allr if x >= 1)}/{len(allr)} "
                            f"(sentence, n_steps) pairs" + (f", {unmatched} unmatched" if unmatched else ""),
                            float(np.median(allr)) >= 1.0))
    # our adaptive rule on the unsmoothed model, and defaults
    rows = []
    for r in rows_in:
        ad = [o for o in r["ours_logit"] if o["setting"].startswith("adaptive")]
        cap50 = next((c for c in r["captum"] if c["n_steps"] == 50), None)
        ti50 = next((c for c in r["transformers_interpret"] if c["n_steps"] == 50), None)
        rows.append([r["words"],
                     "; ".join(f"{o['setting'].split('=')[1].rstrip(')')}: {o['steps']} pts, {fs(o['time_s'])}, "
                               f"{fe(o['completeness_error'])}" for o in ad),
                     f"{fs(r['ours_default_logit']['time_s'])}, {fe(r['ours_default_logit']['completeness_error'])} "
                     f"({r['ours_default_logit']['steps']} pts)",
                     f"{fs(cap50['time_s'])}, {fe(cap50['completeness_error'])}" if cap50 else "-",
                     f"{fs(r['ours_default_probability']['time_s'])}, "
                     f"{fe(r['ours_default_probability']['completeness_error'])}",
                     f"{fs(ti50['time_s'])}, {fe(ti50['completeness_error'])} (reports delta "
                     f"{ti50['reported_delta']:.2f})" if ti50 else "-"])
    out.append("**Out of the box**, and our adaptive rule on the unsmoothed ReLU model (time, completeness error):")
    out.append("")
    out.append(table(["words", "ours adaptive, smoothing=None (rtol: points, time, error)",
                      "ours default (softplus head), logit", "Captum n_steps=50, logit",
                      "ours default, probability", "transformers-interpret n_steps=50, probability"], rows))
    out.append("")
    out.append("At the same rule (our `gauss(N)` is Captum's N-step Gauss-Legendre rule: the same nodes, the same "
               "errors to rounding) our call does a little more than Captum's N gradient rows: the model's own "
               "prediction forward pass, the unsmoothed model value, and f at both path ends (2 extra gradient rows), "
               "and the math SDPA kernel instead of the fused one (needed for Hessians, not for IG); that fixed cost "
               "shows at small n_steps and short sentences. Our adaptive rule on this unsmoothed ReLU model needs many "
               "points for rtol=1e-3 (the kinks make the path function non-smooth); with the default softplus "
               "smoothing it needs 36-42.")
    out.append("")
    out.append("transformers-interpret's own `delta` is not the completeness error of its attributions here: with "
               "transformers 5, DistilBERT's `forward` takes `position_ids`, so it passes all-zero reference position "
               "ids, which enter the delta's f(baseline) but not the integrated path. The errors above are computed "
               "from its raw attributions against the baseline it integrates from; its attributions equal ours for the "
               "same rule.")
    return "\n".join(out)


MATCH_SLACK_TEXT = "1.01, float rounding"


# ---------------------------------------------------------------------------------------------------- 4
def section_throughput(d: dict, targets: list) -> str:
    out = []
    modes = d.get("modes", [])
    if not modes:
        return "No results."
    col = d.get("dataset_column", {})
    rows = []
    for m in modes:
        rows.append([m["what"], m["mode"], m["selection"], m["sentences"], f"{m['mean_words']:.1f}", fs(m["time_s"]),
                     f"{m['sentences_per_s']:.2f}", fs(m["extrapolated_872_s"]) + " (e)",
                     f"{m['peak_rss_mb']:.0f}", f"{m['rss_after_load_mb']:.0f}",
                     fe(m["max_relative_completeness_error"])])
    out.append(table(["what", "mode", "sentences", "n", "mean words", "time", "sentences/s",
                      "all 872 (extrapolated)", "peak RSS MiB", "RSS after load MiB", "max relative error"], rows))
    out.append("")
    out.append("Selections: `random:N` = N random dev sentences (seed 0), `shortest:N` = the N shortest (tokens). "
               "Batched = `explainer(texts)`; loop = `[explainer(t) for t in texts]`. Each half of a selection ran in "
               "its own subprocess in the order batched, loop, loop, batched; times are sums over the halves, peak "
               "memory the larger half (torch's own RSS after loading the model is ~0.5 GB).")
    out.append(f"`explainer(dataset[\"sentence\"])` (a `datasets` Column) accepted as is: "
               f"{'yes' if col.get('accepted') else 'no: ' + str(col.get('error'))}.")
    bounds = {("interactions (IH)" if h["interactions"] else "attributions (IG)"): h for h in d.get("headroom", [])
              if "max_batching_speedup" in h}
    if bounds:
        out.append("")
        out.append("**Headroom: what batching can gain on this CPU.** The loop's own model calls (rows per call, "
                   "counted on the first texts of each selection) and the per-row cost of a forward + backward pass "
                   "at each call size, on a sentence of the selection's median length. Batching shares calls; it "
                   "cannot reduce the rows computed. The last column is the loop's model time at its own call sizes "
                   "over the same rows at the cheapest per-row cost: an estimate of the ceiling for batching (it "
                   "leaves out the per-call Python work, which batching also saves, so a measured speed-up can exceed "
                   "it slightly).")
        out.append("")
        rows = []
        for what, h in bounds.items():
            cost = ", ".join(f"{b}: {v:.1f}" for b, v in h["per_row_ms"].items())
            rows.append([what, h["selection"], h["texts"], h["median_tokens"], f"{h['mean_rows_per_call']:.0f}", cost,
                         fr(h["max_batching_speedup"])])
        out.append(table(["what", "selection", "texts", "median tokens", "loop: mean rows per call",
                          "ms per row at rows per call", "estimated ceiling for batching"], rows))
    for what, ratio in d.get("batched_speedup", {}).items():
        bound = bounds.get(what)
        note = f"; estimated ceiling on this CPU {fr(bound['max_batching_speedup'])}" if bound else ""
        targets.append((f"Throughput, {what}: batched >= 1.5x faster than a loop",
                        f"{fr(ratio)} ({'faster' if ratio >= 1 else 'slower'}{note})", ratio >= 1.5))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- 5
def section_long(d: dict) -> str:
    runs = d.get("runs", [])
    if not runs:
        return "No results."
    out = []
    s = d["settings"]
    ad = next((r for r in runs if r["what"] == "interactions" and r.get("adaptive")), {})
    rows = []
    for r in runs:
        if "error" in r and "peak_rss_mb" not in r:
            rows.append([r["what"], r.get("internal_batch_size"), "failed: " + r["error"], "", "", ""])
            continue
        if r["what"] == "attributions":
            what = "attributions (IG), default tolerance"
            t = fs(r.get("time_s")) + " (m)" if "time_s" in r else "-"
            detail = (f"{r.get('steps')} path points + {r.get('scalar_evaluations')} search evaluations, relative "
                      f"error {fe(r.get('relative_completeness_error'))}") if "time_s" in r else ""
        else:
            what = "interactions (IH), " + ("adaptive (search + probe)" if r.get("adaptive") else "probe (1 point)")
            t = fs(r.get("extrapolated_full_s")) + " (e)" if r.get("extrapolated_full_s") else "-"
            detail = (f"{r['hvp_per_s']:.2f} Hessian-vector products/s" if r.get("hvp_per_s") else "")
        rows.append([what, r.get("internal_batch_size"), t, detail, f"{r['peak_rss_mb']:.0f}",
                     r.get("error", "")])
    out.append(f"Text: SST-2 dev sentences concatenated, cut to exactly {s['tokens']} tokens with [CLS]/[SEP] "
               f"({ad.get('words', '?')} words). Each row is a fresh subprocess under a {s['address_space_cap_gb']:g} "
               f"GB address-space cap.")
    out.append("")
    out.append(table(["what", "internal_batch_size", "time: (m) measured, (e) extrapolated", "detail", "peak RSS MiB",
                      "error"], rows))
    out.append("")
    failed = [r for r in runs if r.get("error")]
    if failed:
        out.append("The failed setting hit the address-space cap: the CPU allocator raises a plain `RuntimeError` "
                   "(\"DefaultCPUAllocator: can't allocate memory\"), not `torch.OutOfMemoryError`, so the engine's "
                   "halve-the-batch-and-retry did not engage and the call failed. Without the cap it would have gone on "
                   "allocating past 12 GB of address space on this shared machine.")
        out.append("")
    if ad.get("path_points"):
        out.append(f"Interactions at the default tolerance need K = {ad['path_points']} path points x W = {ad['words']} "
                   f"words = {ad['total_hvps']:,} Hessian-vector products at {s['tokens']} tokens; the adaptive search "
                   f"took about {fs(ad.get('search_s_estimate'))} (time to the first batch of products, less that "
                   f"batch). The full time is extrapolated as search + "
                   f"K W / (measured products per second); the probes ran {s['probe_updates']} progress updates. The "
                   f"full call's result adds a K x W x W float64 array "
                   f"({ad['path_points'] * ad['words'] ** 2 * 8 / 2**20:.0f} MiB) to the peak shown.")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- target 23 words
def target_23(data: dict, targets: list) -> str:
    t = data.get("target_23_words")
    if t:
        return target_23_dedicated(t, targets)
    d = data.get("interactions_vs_path_explain", {})
    c = next((c for c in d.get("cases", []) if c.get("target_sentence")), None)
    if not c:
        return ""
    o = c["ours"][0]
    targets.append(("23-word SST-2 sentence, attributions + full interaction matrix, default tolerance, real model, "
                    "this CPU: under 20 s (prototype: 62 s)",
                    f"{fs(o['time_s'])} ({o['steps']} path points, {c['words']} words, error "
                    f"{fe(o['completeness_error'])})", o["time_s"] < 20))
    return (f"The 23-word sentence: \"{c['sentence']}\" ({c['tokens']} tokens): our default explanation "
            f"(attributions + {c['words']}x{c['words']} interactions, rtol 1e-3) took **{fs(o['time_s'])}** "
            f"with {o['steps']} path points, relative completeness error "
            f"{fe(o['completeness_error'] / abs(o['f_delta']))}.")


def target_23_dedicated(t: dict, targets: list) -> str:
    d, plain = t["default"], t.get("without_coarsening")
    targets.append(("23-word SST-2 sentence, attributions + full interaction matrix, default tolerance, real model, "
                    "this CPU: under 20 s (prototype: 62 s)",
                    f"{fs(d['time_s'])} (median of {len(d['times_s'])}: {', '.join(fs(x) for x in d['times_s'])}; "
                    f"{d['path_points']} path points, relative error {fe(d['relative_error'])})", d["time_s"] < 20))
    rows = [["default (coarsened final rule)", "1e-3", d["path_points"], d["scalar_evaluations"], fs(d["time_s"]),
             fe(d["relative_error"])]]
    if plain:
        rows.append(["same search, final rule not coarsened", "1e-3", plain["path_points"],
                     plain["scalar_evaluations"], fs(plain["time_s"]), fe(plain["relative_error"])])
    for r in t.get("tolerance_sweep", []):
        rows.append(["default", f"{r['rtol']:g}", r["path_points"], r["scalar_evaluations"], fs(r["time_s"]),
                     fe(r["relative_error"])])
    return "\n".join([
        f"The sentence: \"{t['sentence']}\" ({d['words']} words, {d['tokens']} tokens), explained end to end by "
        f"`SequenceClassificationInteractionExplainer` (attributions + {d['words']}x{d['words']} interactions). "
        f"Written by `benchmarks/bench_target_23.py`.",
        "",
        table(["rule", "rtol", "path points (Hessians)", "scalar evaluations", "time", "relative completeness error"],
              rows),
    ])


def limits_section(data: dict) -> str:
    out = []
    d = data.get("interactions_vs_path_explain")
    if d:
        for c in d.get("cases", []):
            ext = [t for t in c["theirs"] if t["time_status"] != "measured"]
            meas = [t for t in c["theirs"] if t["time_status"] == "measured"]
            wext = [t for t in c["theirs"] if not t["word_coordinates_status"] == "measured"]
            if ext or wext:
                out.append(f"- path_explain, {c['label']}: flattened-embedding call "
                           + (f"measured for num_samples {', '.join(str(t['num_samples']) for t in meas)}; " if meas else "")
                           + (f"extrapolated for num_samples {', '.join(str(t['num_samples']) for t in ext)} (predicted "
                              f"{', '.join(fs(t['time_s']) for t in ext)}; not run to the end, to keep within the run's time "
                              f"budget)" if ext else "")
                           + (f"; on word coordinates, not run to the end for num_samples "
                              f"{', '.join(str(t['num_samples']) for t in wext)} (their error there from the closed form "
                              f"of their rule)" if wext else "") + ".")
    d = data.get("throughput")
    if d:
        sel = d["settings"]
        out.append(f"- Throughput: attributions measured on `{sel['ig_sentences']}` dev sentences and interactions on "
                   f"`{sel['ih_sentences']}`, both modes; the '872' column is a linear extrapolation (sentences of "
                   f"the shortest selection are much cheaper than average, so for interactions it is a large "
                   f"underestimate for the whole dev set).")
    d = data.get("long_input")
    if d:
        out.append("- Long input: attributions measured to the end; interactions extrapolated from the measured "
                   "adaptive search, number of path points and Hessian-vector-product rate (a full run would take "
                   "hours on this CPU).")
    out.append("- No GPU: no GPU was lent to this task, so nothing was measured on one.")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------- main
def build(results: Path, out_md: Path) -> str:
    data, others = load(results)
    targets: list = []
    machine, shared = machine_section(data)
    sections = []
    t23 = target_23(data, targets)
    if "interactions_vs_path_explain" in data:
        sections.append(("1. Interactions vs path_explain", section_path_explain(data["interactions_vs_path_explain"],
                                                                                 targets) + "\n\n" + t23))
    if "accuracy_per_evaluation" in data:
        sections.append(("2. Accuracy per model evaluation", section_accuracy(data["accuracy_per_evaluation"],
                                                                              results, targets)))
    if "attributions_vs_captum" in data:
        sections.append(("3. Attributions vs Captum and transformers-interpret",
                         section_captum(data["attributions_vs_captum"], targets)))
    if "throughput" in data:
        sections.append(("4. Throughput on many texts", section_throughput(data["throughput"], targets)))
    if "long_input" in data:
        tokens = data["long_input"]["settings"].get("tokens")
        sections.append((f"5. Long input ({tokens} tokens)", section_long(data["long_input"])))
    quick = any(d.get("quick") for d in data.values())
    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["> **Quick run** (`--quick`: tiny settings for validating the scripts). Not the benchmark's numbers.",
                  ""]
    lines += [
        "Generated by `python benchmarks/report.py` from `benchmarks/results/*.json`, written by "
        "`python benchmarks/run_all.py` (each benchmark also runs alone: `python benchmarks/bench_<name>.py "
        "[--quick]`). Every comparison runs both sides in the same process (or the same run, for the per-subprocess "
        "memory measurements), on the same model, sentence and machine. Benchmarks are scripts, never timed tests.",
        "",
        "## Machine",
        "",
        machine,
        "",
        "## Targets",
        "",
        table(["target", "measured", "met"], [[t, m, ok if isinstance(ok, str) else
                                               ("yes" if ok else ("no" if ok is not None else "-"))]
                                              for t, m, ok in targets]),
        "",
    ]
    for title, body in sections:
        lines += [f"## {title}", "", body, ""]
    lines += ["## What was measured and what was extrapolated", "", limits_section(data), ""]
    if others:
        lines += ["## Other results in this folder", ""]
        for name in others:
            script = common.HERE / f"{Path(name).stem}.py"
            doc = ""
            if script.exists():
                import ast

                doc = (ast.get_docstring(ast.parse(script.read_text())) or "").splitlines()[0]
            lines.append(f"- `{name}`" + (f": {doc} Written by `benchmarks/{script.name}` (not part of `run_all.py`; "
                                          f"not summarised here)." if doc else " (not written by this suite)."))
        lines.append("")
    notes = [(name, n) for name, d in data.items() for n in d.get("notes", [])]
    if notes:
        lines += ["## Notes from the runs", ""] + [f"- `{name}`: {n}" for name, n in notes] + [""]
    text = "\n".join(lines)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = args.results or (common.QUICK_RESULTS if args.quick else common.RESULTS)
    out = args.out or (results / "BENCHMARKS.md" if args.quick else common.ROOT / "BENCHMARKS.md")
    build(results, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
