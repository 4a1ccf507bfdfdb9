"""Views of :mod:`transformers_ih.evaluate` results: plotly figures and the report's "How faithful is it?" section.

* :func:`plot_removal_curves`: deletion and insertion curves (model value vs share of words removed / inserted).
* :func:`plot_aopc`: comprehensiveness and sufficiency of each rationale (the AOPC terms).
* :func:`plot_pair_ablation`: each strong pair's predicted total interaction vs the model's discrete interaction.
* :func:`plot_coalition_fidelity`: the model's value on each random coalition vs the two surrogates' predictions.
* :func:`evaluation_sections`: the report's section for one result or several.

Words and labels are escaped (:func:`.escape.plotly_text` in figures, :func:`.escape.html_text` in HTML); colours
come from the report's palettes (:mod:`.theme`). Nothing here runs a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from .escape import html_text, plotly_text
from .format import TICK_CHARS, exact, short, truncate
from .theme import Palette, base_layout, note_when_empty, palette

if TYPE_CHECKING:
    from ..evaluate import AttributionFaithfulness, InteractionFaithfulness

__all__ = [
    "plot_removal_curves",
    "plot_aopc",
    "plot_pair_ablation",
    "plot_coalition_fidelity",
    "evaluation_sections",
    "EvaluationSection",
    "metric_items",
]

HOVER_WORDS = 12
"""Present words listed in a coalition's hover text (the rest counted)."""


def _number(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _layout(p: Palette, title: str, x_title: str, y_title: str) -> dict[str, Any]:
    layout = base_layout(p)
    layout.update(
        title=dict(text=title),
        showlegend=True,
        height=420,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0, font=dict(color=p.foreground)),
    )
    layout["xaxis"] = {**layout["xaxis"], "title": dict(text=x_title)}
    layout["yaxis"] = {**layout["yaxis"], "title": dict(text=y_title)}
    return layout


def _identity_line(p: Palette, values: Sequence[np.ndarray | Sequence[float]]) -> go.Scatter:
    both = np.concatenate([np.asarray(v, dtype=np.float64) for v in values]) if values else np.zeros(1)
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    return go.Scatter(
        x=[lo, hi],
        y=[lo, hi],
        mode="lines",
        name="y = x",
        hoverinfo="skip",
        line=dict(color=p.muted, dash="dot", width=1),
    )


def plot_removal_curves(result: AttributionFaithfulness, *, theme: str = "light", **layout: Any) -> go.Figure:
    """Deletion (most positive words removed first) and insertion (most positive words inserted first) curves: the
    model's value (``result.output``) against the share of words removed or inserted; their areas in the legend."""
    p = palette(theme)
    curves = result.curves
    n = len(curves.order)
    x = [k / n if n else 0.0 for k in range(n + 1)]
    ranked = ["(none)"] + [plotly_text(truncate(result.words[i], TICK_CHARS)) for i in curves.order]
    traces = []
    for name, values, color, auc in (
        ("deletion", curves.deletion, p.negative, curves.deletion_auc),
        ("insertion", curves.insertion, p.positive, curves.insertion_auc),
    ):
        verb = "removed" if name == "deletion" else "inserted"
        hover = [
            f"<b>{k} of {n} words {verb}</b><br>last: {ranked[k]}<br>{plotly_text(result.output)}: "
            f"{short(v)} (exact {exact(v)})"
            for k, v in enumerate(values)
        ]
        traces.append(
            go.Scatter(
                x=x,
                y=values,
                mode="lines+markers",
                name=f"{name} (area {_number(auc)})",
                line=dict(color=color, width=2),
                marker=dict(color=color, size=6),
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig = go.Figure(
        traces,
        layout=_layout(
            p,
            "Deletion and insertion curves",
            "share of words removed / inserted (by decreasing attribution)",
            plotly_text(result.output),
        ),
    )
    fig.update_layout(**layout)
    return fig


def plot_aopc(result: AttributionFaithfulness, *, theme: str = "light", **layout: Any) -> go.Figure:
    """The AOPC terms: for each rationale (top-k words), comprehensiveness ``f(x) - f(x without it)`` and
    sufficiency ``f(x) - f(it alone)``; their means (AOPC) in the legend."""
    p = palette(theme)
    a = result.aopc
    labels = [f"top {size} ({q:.0%})" for q, size in zip(a.fractions, a.sizes)]
    traces = []
    for name, values, color, mean in (
        ("comprehensiveness", a.comprehensiveness_values, p.positive, a.comprehensiveness),
        ("sufficiency", a.sufficiency_values, p.negative, a.sufficiency),
    ):
        hover = [f"<b>{label}</b><br>{name}: {short(v)} (exact {exact(v)})" for label, v in zip(labels, values)]
        traces.append(
            go.Bar(
                x=labels,
                y=values,
                name=f"{name} (AOPC {_number(mean)})",
                marker=dict(color=color),
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    fig = go.Figure(
        traces,
        layout=_layout(
            p,
            "Comprehensiveness and sufficiency per rationale",
            "rationale",
            f"change of the {plotly_text(result.output)}",
        ),
    )
    fig.update_layout(barmode="group", xaxis=dict(type="category"))
    if not labels:
        note_when_empty(fig, "no rationale (no positively attributed word)", p)
    fig.update_layout(**layout)
    return fig


def plot_pair_ablation(result: InteractionFaithfulness, *, theme: str = "light", **layout: Any) -> go.Figure:
    """Each of the ``k`` strongest pairs: the explanation's total interaction ``2 Gamma_ij`` (x) against the
    model's discrete interaction ``f(x) - f(x without i) - f(x without j) + f(x without both)`` (y)."""
    p = palette(theme)
    pa = result.pairs
    hover = [
        f"<b>{plotly_text(a)} [{i}] × {plotly_text(b)} [{j}]</b><br>explanation 2·Γ: {short(pred)} (exact "
        f"{exact(pred)})<br>ablation Δ: {short(abl)} (exact {exact(abl)})"
        for (i, j), (a, b), pred, abl in zip(pa.pairs, pa.words, pa.predicted, pa.ablation)
    ]
    points = go.Scatter(
        x=pa.predicted,
        y=pa.ablation,
        mode="markers",
        name="pairs",
        marker=dict(color=p.positive, size=9, line=dict(color=p.background, width=1)),
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
    )
    title = (
        f"Pair ablation, top {pa.k} pairs: correlation {_number(pa.correlation)}, signs agree {pa.sign_agreement:.0%}"
    )
    fig = go.Figure(
        [_identity_line(p, [pa.predicted, pa.ablation]), points],
        layout=_layout(p, title, "explanation: 2 × interaction", "model: discrete interaction"),
    )
    fig.update_layout(**layout)
    return fig


def _coalition_hover(words: list[str], mask: np.ndarray) -> str:
    present = [plotly_text(truncate(words[i], TICK_CHARS)) for i in np.flatnonzero(mask)]
    shown = ", ".join(present[:HOVER_WORDS]) + (
        f", … (+{len(present) - HOVER_WORDS})" if len(present) > HOVER_WORDS else ""
    )
    return f"{len(present)} of {len(words)} words present: {shown or '(none)'}"


def plot_coalition_fidelity(result: InteractionFaithfulness, *, theme: str = "light", **layout: Any) -> go.Figure:
    """The model's value on each random coalition (x) against the second-order (Integrated Hessians) and additive
    (attributions) surrogates' predictions (y); their R^2 in the legend. Points on the dotted line are exact."""
    p = palette(theme)
    fi = result.fidelity
    masks = np.asarray(fi.coalitions, dtype=bool)
    base = [_coalition_hover(result.words, m) for m in masks]
    traces = [_identity_line(p, [fi.values, fi.second_order, fi.additive])]
    for name, pred, color, r2 in (
        ("additive (attributions)", fi.additive, p.muted, fi.r2_additive),
        ("second order (interactions)", fi.second_order, p.positive, fi.r2_second_order),
    ):
        hover = [f"{b}<br>model: {short(v)}<br>{name}: {short(g)}" for b, v, g in zip(base, fi.values, pred)]
        traces.append(
            go.Scatter(
                x=fi.values,
                y=pred,
                mode="markers",
                name=f"{name}, R² {_number(r2)}",
                marker=dict(color=color, size=6, opacity=0.75),
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
            )
        )
    title = f"Coalition fidelity on {len(masks)} random coalitions ({plotly_text(fi.distribution)})"
    fig = go.Figure(traces, layout=_layout(p, title, f"model {plotly_text(result.output)}", "surrogate prediction"))
    fig.update_layout(**layout)
    return fig


# ------------------------------------------------------------------------------------------------ report section
class EvaluationSection(NamedTuple):
    """One chart of the report's evaluation section: element-id suffix, heading, note, facts HTML (escaped) and
    ``build(theme) -> Figure``."""

    name: str
    heading: str
    note: str
    html: str
    build: Callable[[str], go.Figure]


def _builder(plot: Callable[..., go.Figure], result: Any) -> Callable[[str], go.Figure]:
    """``build(theme)``: ``plot(result, theme=theme)``."""
    return lambda theme: plot(result, theme=theme)


def _is_attribution(result) -> bool:  # duck-typed: this module never imports the evaluate package (torch)
    return all(hasattr(result, name) for name in ("aopc", "curves", "words", "output"))


def _is_interaction(result) -> bool:
    return all(hasattr(result, name) for name in ("pairs", "fidelity", "words", "output"))


def metric_items(result) -> list[tuple[str, str]]:
    """``(name, value)`` plain-text facts of one result (the report escapes them)."""
    if _is_attribution(result):
        return [
            ("output", result.output),
            ("AOPC comprehensiveness (higher is better)", _number(result.comprehensiveness, 4)),
            ("AOPC sufficiency (lower is better)", _number(result.sufficiency, 4)),
            ("deletion area (lower is better)", _number(result.deletion_auc, 4)),
            ("insertion area (higher is better)", _number(result.insertion_auc, 4)),
            ("rationales", ", ".join(str(s) for s in result.aopc.sizes) or "none"),
            ("model evaluations", str(result.evaluations)),
        ]
    if _is_interaction(result):
        return [
            ("output", result.output),
            ("coalition R² second order", _number(result.r2_second_order, 4)),
            ("coalition R² additive", _number(result.r2_additive, 4)),
            (
                "coalitions",
                f"{len(result.fidelity.values)} ({result.fidelity.distribution}, seed {result.fidelity.seed})",
            ),
            (f"pair ablation correlation (top {result.pairs.k})", _number(result.pair_correlation, 4)),
            ("pair signs agreeing", f"{result.sign_agreement:.0%}"),
            ("model evaluations", str(result.evaluations)),
        ]
    raise TypeError(
        f"evaluation must be results of transformers_ih.evaluate (AttributionFaithfulness or "
        f"InteractionFaithfulness), or a list of them; got {type(result).__name__}"
    )


def _facts_html(result) -> str:
    rows = "".join(
        f'<div class="ih-fact"><dt>{html_text(name)}</dt><dd>{html_text(value)}</dd></div>'
        for name, value in metric_items(result)
    )
    return f'<dl class="ih-facts">{rows}</dl>'


def evaluation_sections(evaluation) -> list[EvaluationSection]:
    """The report's "How faithful is it?" charts for one result or a list of them, in order (element names
    ``eval-<n>-curves`` etc., unique per result)."""
    results = list(evaluation) if isinstance(evaluation, (list, tuple)) else [evaluation]
    sections = []
    for n, result in enumerate(results):
        facts = _facts_html(result)  # also rejects what is not a result
        if _is_attribution(result):
            sections += [
                EvaluationSection(
                    f"eval-{n}-curves",
                    "How faithful is it? Attributions",
                    "Words removed (set to the baseline) or inserted in order of decreasing attribution: "
                    "a faithful ranking makes the output fall fast on deletion and rise fast on "
                    "insertion.",
                    facts,
                    _builder(plot_removal_curves, result),
                ),
                EvaluationSection(
                    f"eval-{n}-aopc",
                    "Comprehensiveness and sufficiency",
                    "AOPC as ERASER and ferret define it: for the top 10%, 20%, ... of the positively "
                    "attributed words, how much the output drops without them (comprehensiveness) "
                    "and with only them (sufficiency).",
                    "",
                    _builder(plot_aopc, result),
                ),
            ]
        else:
            sections += [
                EvaluationSection(
                    f"eval-{n}-coalitions",
                    "How faithful is it? Interactions",
                    "Random coalitions of words (the others at the baseline): the model's value "
                    "against f(x') + the interactions within the coalition (second order) and + the "
                    "attributions of its words (additive).",
                    facts,
                    _builder(plot_coalition_fidelity, result),
                ),
                EvaluationSection(
                    f"eval-{n}-pairs",
                    "Pair ablation",
                    "The strongest pairs: twice their interaction against what removing both words "
                    "does beyond removing each alone.",
                    "",
                    _builder(plot_pair_ablation, result),
                ),
            ]
    return sections
