"""Plotly views of a :class:`~.result.TabularExplanation`: a summary (beeswarm) plot, a dependence plot, an
interaction heatmap and a bar chart of the top interacting pairs. Each returns a ``plotly.graph_objects.Figure``.

They share the text views' stack (:mod:`transformers_ih.visualize`): the ``theme="light"`` / ``"dark"``
palettes and layout, the sign convention (positive blue, negative red, diverging scales centred at 0) and the
escaping of user text: feature names, the target and titles are escaped with
:func:`~transformers_ih.visualize.escape.plotly_text` wherever plotly shows them (hover text, ticks, titles,
legend, colour bars), and hover text is passed as data, never inside a ``hovertemplate``.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import plotly.graph_objects as go

from ..visualize.escape import plotly_text
from ..visualize.format import max_abs
from ..visualize.theme import Palette, base_layout, palette, plotly_colorscale, sign_color
from .result import TabularExplanation

METHOD_NAMES = {"expected_hessians": "Expected Hessians", "expected_gradients": "Expected Gradients"}
HOVER = "%{hovertext}<extra></extra>"


def _value_scale(p: Palette) -> list[list[Any]]:
    """Feature values, low to high: the palette's negative colour to its positive one (no pale middle, so
    every dot stands out from the background)."""
    return [[0.0, p.negative], [1.0, p.positive]]


def _names(expl: TabularExplanation) -> list[str]:
    """Every feature name, escaped for plotly."""
    return [plotly_text(name) for name in expl.feature_names]


def _figure(trace: Any, p: Palette, title: str | None, default_title: str) -> go.Figure:
    """A figure of ``trace`` (or none) on the theme's base layout, titled ``title`` or ``default_title`` (escaped)."""
    fig = go.Figure(trace, layout=base_layout(p))
    fig.update_layout(title=dict(text=plotly_text(title or default_title)))
    return fig


def _normalised(values: np.ndarray) -> np.ndarray:
    """Per-column min-max scaling to [0, 1] (robust: 5th and 95th percentiles), constant columns to 0.5."""
    lo, hi = np.nanpercentile(values, 5, axis=0), np.nanpercentile(values, 95, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.where(hi > lo, np.clip((values - lo) / span, 0.0, 1.0), 0.5)


def _swarm_offsets(x: np.ndarray, bins: int = 40, width: float = 0.38) -> np.ndarray:
    """Deterministic beeswarm offsets: points in the same bin of ``x`` spread out alternately up and down,
    scaled so the densest bin fills ``+-width``."""
    if len(x) == 0:
        return np.zeros(0)
    lo, hi = float(np.min(x)), float(np.max(x))
    idx = np.zeros(len(x), dtype=int) if hi <= lo else np.minimum(((x - lo) / (hi - lo) * bins).astype(int), bins - 1)
    offsets = np.zeros(len(x))
    counts = np.bincount(idx, minlength=bins)
    scale = width / max(1, (counts.max() + 1) // 2)
    seen = np.zeros(bins, dtype=int)
    for k in np.argsort(x, kind="stable"):
        b = idx[k]
        j = seen[b]
        seen[b] += 1
        offsets[k] = ((j + 1) // 2) * (1 if j % 2 else -1) * scale
    return offsets


def summary_plot(
    expl: TabularExplanation, *, max_features: int = 20, title: str | None = None, theme: str = "light"
) -> go.Figure:
    """Features ranked by mean |attribution| (most important at the top); one dot per row at its attribution,
    coloured by the feature's value (per feature: low = the theme's negative colour, high = its positive one).

    One scatter trace per shown feature (named after it, escaped), sharing one colour axis.
    """
    p = palette(theme)
    order = expl.feature_ranking()[:max_features]
    names = _names(expl)
    colours = _normalised(expl.feature_values)
    method = METHOD_NAMES.get(expl.method, expl.method)
    fig = _figure(None, p, title, f"{method}: attributions of {expl.num_rows} rows")
    for rank, i in enumerate(order):
        y = len(order) - 1 - rank
        a, se, v = expl.attributions[:, i], expl.attributions_se[:, i], expl.feature_values[:, i]
        hover = [
            f"<b>{names[i]}</b><br>row {r}<br>value {v[r]:.4g}<br>attribution {a[r]:.4g} ± {se[r]:.2g}"
            for r in range(expl.num_rows)
        ]
        fig.add_trace(
            go.Scatter(
                x=a,
                y=y + _swarm_offsets(a),
                mode="markers",
                name=names[i],
                showlegend=False,
                marker=dict(color=colours[:, i], coloraxis="coloraxis", size=6, opacity=0.85, line=dict(width=0)),
                hovertext=hover,
                hovertemplate=HOVER,
            )
        )
    fig.add_vline(x=0.0, line=dict(color=p.muted, width=1))
    fig.update_layout(
        xaxis_title=plotly_text(f"attribution to {expl.target} (mean |attribution| ranks the features)"),
        yaxis=dict(
            tickvals=list(range(len(order)))[::-1],
            ticktext=[names[i] for i in order],
            range=[-0.7, len(order) - 0.3],
            showgrid=False,
            zeroline=False,
        ),
        coloraxis=dict(
            colorscale=_value_scale(p),
            cmin=0.0,
            cmax=1.0,
            colorbar=dict(
                title=dict(text="feature value"), tickvals=[0, 1], ticktext=["low", "high"], len=0.6, outlinewidth=0
            ),
        ),
        height=max(320, 28 * len(order) + 140),
        margin=dict(b=50),
    )
    return fig


def dependence_plot(
    expl: TabularExplanation,
    feature: int | str,
    interaction_feature: int | str | None = "auto",
    *,
    y: str = "attribution",
    error_bars: bool = False,
    title: str | None = None,
    theme: str = "light",
) -> go.Figure:
    """A feature's value (x) against its attribution (y), one dot per row, coloured by the value of the
    feature it interacts with most (``interaction_feature="auto"``: largest mean |interaction|, see
    :meth:`~.result.TabularExplanation.strongest_partner`), a given feature (name or index), or, with
    ``None``, by the sign of y (positive blue, negative red).

    ``y``: ``"attribution"`` (default), ``"main_effect"`` (the diagonal of the interactions) or
    ``"interaction"`` (the pair's total interaction ``2 * interactions[:, i, j]`` with the colouring feature).
    ``error_bars``: show +- one standard error. ``fig.layout.meta`` names the two features (escaped, as shown).
    """
    p = palette(theme)
    i = expl.feature_index(feature)
    j = None
    if interaction_feature == "auto":
        j = expl.strongest_partner(i) if expl.num_features > 1 else None
    elif interaction_feature is not None:
        j = expl.feature_index(interaction_feature)
        if j == i:
            raise ValueError("interaction_feature must differ from feature")
    name_i = expl.feature_names[i]
    if y == "attribution":
        values, se, label = expl.attributions[:, i], expl.attributions_se[:, i], f"attribution of {name_i}"
    elif y in ("main_effect", "interaction"):
        expl._need_interactions()
        m, m_se = cast(np.ndarray, expl.interactions), cast(np.ndarray, expl.interactions_se)
        if y == "main_effect":
            values, se = m[:, i, i], m_se[:, i, i]
            label = f"main effect of {name_i}"
        else:
            if j is None:
                raise ValueError("y='interaction' needs an interaction_feature")
            values, se = 2 * m[:, i, j], 2 * m_se[:, i, j]
            label = f"interaction {name_i} × {expl.feature_names[j]}"
    else:
        raise ValueError(f"y must be 'attribution', 'main_effect' or 'interaction', got {y!r}")
    names, label = _names(expl), plotly_text(label)
    x = expl.feature_values[:, i]
    hover = [f"row {r}<br>{names[i]} {x[r]:.4g}<br>{label} {values[r]:.4g} ± {se[r]:.2g}" for r in range(expl.num_rows)]
    marker = dict(size=7, opacity=0.85, line=dict(width=0))
    if j is not None:
        partner = expl.feature_values[:, j]
        marker.update(
            color=partner,
            colorscale=_value_scale(p),
            showscale=True,
            colorbar=dict(title=dict(text=names[j]), len=0.7, outlinewidth=0),
        )
        hover = [f"{h}<br>{names[j]} {partner[r]:.4g}" for r, h in enumerate(hover)]
    else:
        marker.update(color=[sign_color(v, p) for v in values])
    coloured = f", coloured by {expl.feature_names[j]}" if j is not None else ""
    fig = _figure(
        go.Scatter(
            x=x,
            y=values,
            mode="markers",
            name=names[i],
            marker=marker,
            hovertext=hover,
            hovertemplate=HOVER,
            error_y=dict(type="data", array=se, visible=True, thickness=1, width=0, color=p.muted)
            if error_bars
            else None,
        ),
        p,
        title,
        f"{name_i}: dependence{coloured}",
    )
    fig.add_hline(y=0.0, line=dict(color=p.muted, width=1))
    fig.update_layout(xaxis_title=f"{names[i]} (value)", yaxis_title=label, height=420, margin=dict(b=50))
    fig.layout.meta = {"feature": names[i], "interaction_feature": None if j is None else names[j]}
    return fig


def interaction_heatmap(
    expl: TabularExplanation,
    *,
    max_features: int | None = None,
    diagonal: bool = False,
    signed: bool = False,
    title: str | None = None,
    theme: str = "light",
) -> go.Figure:
    """Heatmap over features (ordered by importance) of the mean |interaction| over rows (the positive half of
    the theme's diverging scale, from 0), or the mean signed interaction with ``signed=True`` (the whole
    diverging scale centred at 0: positive blue, negative red, as in the text views' matrix). The diagonal
    (main effects, usually much larger) is blank unless ``diagonal=True``."""
    expl._need_interactions()
    p = palette(theme)
    order = expl.feature_ranking()[: max_features or expl.num_features]
    matrix = (expl.mean_interaction if signed else expl.mean_abs_interaction)[np.ix_(order, order)].copy()
    if not diagonal:
        np.fill_diagonal(matrix, np.nan)
    all_names = _names(expl)
    names = [all_names[i] for i in order]
    what = "mean interaction" if signed else "mean |interaction|"
    text = [
        [
            f"<b>{names[r]}</b><br>main effect ({what}): {matrix[r, c]:.4g}"
            if r == c
            else f"<b>{names[r]} × {names[c]}</b><br>{what}: {matrix[r, c]:.4g}"
            for c in range(len(order))
        ]
        for r in range(len(order))
    ]
    bound = max_abs(matrix) or 1.0
    heat = go.Heatmap(
        z=matrix,
        x=names,
        y=names,
        colorscale=plotly_colorscale(p, signed=signed),
        zmid=0.0 if signed else None,
        zmin=-bound if signed else 0.0,
        zmax=bound,
        hoverongaps=False,
        xgap=1,
        ygap=1,
        colorbar=dict(title=dict(text=what), thickness=14, outlinewidth=0),
        text=text,
        hovertemplate="%{text}<extra></extra>",
    )
    fig = _figure(heat, p, title, f"Feature interactions over {expl.num_rows} rows")
    fig.update_layout(
        yaxis=dict(type="category", autorange="reversed", scaleanchor="x", showgrid=False, constrain="domain"),
        xaxis=dict(type="category", tickangle=-45, showgrid=False, constrain="domain"),
        plot_bgcolor=p.border,  # shows through the blank diagonal and the gaps between cells
        height=max(420, 22 * len(order) + 200),
    )
    return fig


def top_pairs_plot(
    expl: TabularExplanation, k: int = 10, *, title: str | None = None, theme: str = "light"
) -> go.Figure:
    """Horizontal bars of the ``k`` pairs with the largest mean |interaction| (strongest at the top), coloured
    by the sign of the pair's mean interaction (positive blue, negative red)."""
    p = palette(theme)
    names = _names(expl)
    pairs = expl.top_interaction_indices(k)[::-1]
    signed = expl.mean_interaction
    labels = [f"{names[i]} × {names[j]}" for i, j, _ in pairs]
    values = [v for _, _, v in pairs]
    hover = [
        f"<b>{label}</b><br>mean |interaction| {v:.4g}<br>mean interaction {signed[i, j]:.4g}"
        for label, (i, j, v) in zip(labels, pairs)
    ]
    bars = go.Bar(
        x=values,
        y=labels,
        orientation="h",
        marker_color=[sign_color(signed[i, j], p) for i, j, _ in pairs],
        hovertext=hover,
        hovertemplate=HOVER,
    )
    fig = _figure(bars, p, title, f"Top {len(pairs)} interacting pairs")
    fig.update_layout(
        xaxis_title="mean |interaction| over rows",
        yaxis=dict(type="category"),
        height=max(300, 26 * len(pairs) + 120),
        bargap=0.25,
        margin=dict(b=50),
    )
    return fig
