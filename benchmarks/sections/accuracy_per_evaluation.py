"""Section of ``bench_accuracy_per_evaluation.py``: completeness error against path points for our rules and the
paper's, over SST-2 sentences, and its plotly figure."""

from __future__ import annotations

import numpy as np

from .base import NO_RESULTS, Output, Section, fe, median, table

TITLE = "Accuracy per model evaluation"
FIGURE = "accuracy_per_evaluation.html"
ADAPTIVE = "ours: adaptive"
RULE_ORDER = [ADAPTIVE, "ours: gauss", "paper: Monte Carlo", "paper: grid (path_explain)", "paper: midpoint grid"]
IG_ORDER = [ADAPTIVE, "ours: gauss-legendre", "riemann_middle", "riemann_trapezoid"]
HEADLINE_ERRORS = (1e-2, 1e-3)  # path points each rule needs for a median relative error at most these


def _spread(errors) -> tuple[float, float, float]:
    return median(errors), float(np.percentile(errors, 10)), float(np.percentile(errors, 90))


def accuracy_curves(d: dict, key: str, adaptive_key: str) -> dict:
    """``{rule: [(points, median error, p10, p90, extra), ...]}`` over sentences."""
    per = d.get("per_sentence", [])
    by = {}
    for s in per:
        for r in s[key]:
            by.setdefault(r["rule"], {}).setdefault(r["points"], []).append(r["relative_error"])
    curves = {rule: [(p, *_spread(v), None) for p, v in sorted(pts.items())] for rule, pts in by.items()}
    ad = {}
    for s in per:
        for a in s[adaptive_key]:
            ad.setdefault(a["rtol"], []).append(a)
    rows = []
    for rtol, lst in sorted(ad.items(), reverse=True):
        errs = [a["relative_error"] for a in lst]
        rows.append(
            (
                median([a["nodes"] for a in lst]),
                *_spread(errs),
                {
                    "rtol": rtol,
                    "search": median([a["search_evaluations"] for a in lst]),
                    "max_nodes": max(a["nodes"] for a in lst),
                    "max_error": max(errs),
                    "met": sum(1 for a in lst if a["relative_error"] <= rtol),
                    "n": len(lst),
                },
            )
        )
    curves[ADAPTIVE] = rows
    return curves


def _fixed_rules_table(curves: dict, order: list, cell) -> str:
    rules = [r for r in order if r in curves and r != ADAPTIVE]
    points = sorted({p for r in rules for p, *_ in curves[r]})
    rows = []
    for r in rules:
        got = {p: (m, lo, hi) for p, m, lo, hi, _ in curves[r]}
        rows.append([r] + [cell(*got[p]) if p in got else cell(None, None, None) for p in points])
    return table(["fixed rule \\ path points"] + [str(p) for p in points], rows)


def _with_spread(m, lo, hi) -> str:
    return f"{fe(m)} [{fe(lo)}, {fe(hi)}]" if m is not None else ""


def _headline(curves: dict) -> list[str]:
    def first_below(rule, thr):
        return next((p for p, m, *_ in curves.get(rule, []) if m <= thr), None)

    lines = []
    for thr in HEADLINE_ERRORS:
        parts = []
        for r in RULE_ORDER:
            p = first_below(r, thr)
            parts.append(
                f"{r}: {f'{p:.0f}' if p is not None else 'not reached'}" + (" (median)" if r == ADAPTIVE and p else "")
            )
        lines.append(f"- Path points for a median relative error <= {thr:g}: " + "; ".join(parts))
    return lines


def _intro(d: dict, per: list) -> str:
    words = [s["words"] for s in per]
    return (
        f"{len(per)} random SST-2 dev sentences ({min(words)}-{max(words)} words, median "
        f"{int(np.median(words))}), the real model ({d.get('smoothing')} head, as our explainer runs it), the "
        f"predicted class's logit. Relative completeness error |sum(Gamma) - (f(x) - f(x'))| / |f(x) - f(x')|, "
        f"median over sentences (10th-90th percentile in brackets), against the number of path points at which "
        f"the W x W Hessians are evaluated (each costs W Hessian-vector products). Our adaptive rule also spends "
        f"scalar path evaluations on its search (one forward and two backward passes along t each, about 1/W of "
        f"a path point); they are listed."
    )


def render(d: dict, out: Output) -> Section:
    per = d.get("per_sentence", [])
    if not per:
        return Section(TITLE, NO_RESULTS)
    curves = accuracy_curves(d, "ih", "ih_adaptive")
    ih_adaptive = [
        [
            f"{ADAPTIVE}, rtol={x['rtol']:g}",
            f"{p:.0f} (max {x['max_nodes']})",
            _with_spread(m, lo, hi),
            f"{x['search']:.0f}",
            f"{x['met']}/{x['n']}",
        ]
        for p, m, lo, hi, x in curves[ADAPTIVE]
    ]
    ig = accuracy_curves(d, "ig", "ig_adaptive")
    ig_adaptive = [
        [f"{ADAPTIVE}, rtol={x['rtol']:g}", f"{p:.0f}", _with_spread(m, lo, hi), f"{x['search']:.0f}"]
        for p, m, lo, hi, x in ig[ADAPTIVE]
    ]
    lines = [
        _intro(d, per),
        "",
        table(
            ["rule", "path points (median)", "relative error", "search evaluations (median)", "sentences within rtol"],
            ih_adaptive,
        ),
        "",
        _fixed_rules_table(curves, RULE_ORDER, _with_spread),
        "",
        *_headline(curves),
        "",
        "Integrated Gradients on the same sentences (uniform measure; Captum's rules: Gauss-Legendre, its "
        "default, and the Riemann sums):",
        "",
        table(["rule", "path points (median)", "relative error", "search evaluations"], ig_adaptive),
        "",
        _fixed_rules_table(ig, IG_ORDER, lambda m, lo, hi: fe(m)),
        "",
    ]
    checks = d.get("explainer_check", [])
    if checks:
        diff = max(abs(c["explainer_relative_error"] - c["scalar_relative_error"]) for c in checks)
        lines.append(
            f"Check: the full explainer's `completeness_error` (Hessians at every node) equals the scalar-"
            f"integrand score used above to {diff:.1e} (relative) on {len(checks)} runs."
        )
    html = write_figure(curves, ig, out.files / FIGURE) if out.files else None
    if html:
        lines += ["", f"Figure: [`{out.link(html)}`]({out.link(html)}) (plotly, self-contained)."]
    return Section(TITLE, "\n".join(lines))


def write_figure(curves: dict, ig: dict, path):
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        return None
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "Integrated Hessians: completeness error vs path points",
            "Integrated Gradients: completeness error vs path points",
        ),
    )
    colors = {
        ADAPTIVE: "#d62728",
        "ours: gauss": "#ff7f0e",
        "ours: gauss-legendre": "#ff7f0e",
        "paper: Monte Carlo": "#1f77b4",
        "paper: grid (path_explain)": "#2ca02c",
        "paper: midpoint grid": "#9467bd",
        "riemann_middle": "#9467bd",
        "riemann_trapezoid": "#2ca02c",
    }
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
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines+markers",
                    name=rule,
                    legendgroup=rule,
                    showlegend=col == 1 or rule not in curves,
                    line=dict(color=colors.get(rule), dash="solid" if rule.startswith("ours") else "dot"),
                    error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, thickness=1),
                    text=text,
                    hovertemplate="%{x} points: median %{y:.2e}<br>%{text}<extra>" + rule + "</extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(type="log", title_text="path points (Hessian / gradient evaluations)", row=1, col=col)
        fig.update_yaxes(type="log", title_text="relative completeness error (median, 10-90%)", row=1, col=col)
    fig.update_layout(
        title="Accuracy per model evaluation: distilbert-mini-sst2 on SST-2 dev sentences",
        height=560,
        width=1300,
        template="plotly_white",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True, full_html=True)
    return path
