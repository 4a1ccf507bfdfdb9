"""Plotly views of a :class:`~.result.TabularExplanation`: a summary (beeswarm) plot, a dependence plot, an
interaction heatmap and a bar chart of the top interacting pairs. Each returns a ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .result import TabularExplanation

# low feature values blue, high red (as in SHAP's summary plots)
VALUE_SCALE = [[0.0, "#1e88e5"], [0.5, "#a25fb5"], [1.0, "#ff0052"]]
HEAT_SCALE = "Viridis"
DIVERGING = "RdBu_r"
TEMPLATE = "plotly_white"
METHOD_NAMES = {"expected_hessians": "Expected Hessians", "expected_gradients": "Expected Gradients"}


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


def summary_plot(expl: TabularExplanation, *, max_features: int = 20, title: str | None = None) -> go.Figure:
    """Features ranked by mean |attribution| (most important at the top); one dot per row at its attribution,
    coloured by the feature's value (blue low, red high, per feature).

    One scatter trace per shown feature (named after it), sharing one colour axis.
    """
    order = expl.feature_ranking()[:max_features]
    colours = _normalised(expl.feature_values)
    fig = go.Figure()
    rows = np.arange(expl.num_rows)
    for rank, i in enumerate(order):
        y = len(order) - 1 - rank
        a = expl.attributions[:, i]
        fig.add_trace(go.Scatter(
            x=a, y=y + _swarm_offsets(a), mode="markers", name=expl.feature_names[i], showlegend=False,
            marker=dict(color=colours[:, i], coloraxis="coloraxis", size=6, opacity=0.85, line=dict(width=0)),
            customdata=np.stack([rows, expl.feature_values[:, i], expl.attributions_se[:, i]], axis=1),
            hovertemplate=(f"<b>{expl.feature_names[i]}</b><br>row %{{customdata[0]:d}}<br>value %{{customdata[1]:.4g}}"
                           "<br>attribution %{x:.4g} ± %{customdata[2]:.2g}<extra></extra>"),
        ))
    fig.add_vline(x=0.0, line=dict(color="#888", width=1))
    fig.update_layout(
        template=TEMPLATE,
        title=title or f"{METHOD_NAMES.get(expl.method, expl.method)}: attributions of {expl.num_rows} rows",
        xaxis_title=f"attribution to {expl.target} (mean |attribution| ranks the features)",
        yaxis=dict(tickvals=list(range(len(order)))[::-1], ticktext=[expl.feature_names[i] for i in order],
                   range=[-0.7, len(order) - 0.3], showgrid=False, zeroline=False),
        coloraxis=dict(colorscale=VALUE_SCALE, cmin=0.0, cmax=1.0,
                       colorbar=dict(title="feature value", tickvals=[0, 1], ticktext=["low", "high"], len=0.6)),
        height=max(320, 28 * len(order) + 140),
        margin=dict(l=10, r=10, t=60, b=50),
    )
    return fig


def dependence_plot(expl: TabularExplanation, feature: int | str, interaction_feature: int | str | None = "auto",
                    *, y: str = "attribution", error_bars: bool = False, title: str | None = None) -> go.Figure:
    """A feature's value (x) against its attribution (y), one dot per row, coloured by the value of the
    feature it interacts with most (``interaction_feature="auto"``: largest mean |interaction|, see
    :meth:`~.result.TabularExplanation.strongest_partner`), a given feature (name or index), or not at all
    (``None``).

    ``y``: ``"attribution"`` (default), ``"main_effect"`` (the diagonal of the interactions) or
    ``"interaction"`` (the pair's total interaction ``2 * interactions[:, i, j]`` with the colouring feature).
    ``error_bars``: show +- one standard error.
    """
    i = expl.feature_index(feature)
    j = None
    if interaction_feature == "auto":
        j = expl.strongest_partner(i) if expl.num_features > 1 else None
    elif interaction_feature is not None:
        j = expl.feature_index(interaction_feature)
        if j == i:
            raise ValueError("interaction_feature must differ from feature")
    if y == "attribution":
        values, se, label = expl.attributions[:, i], expl.attributions_se[:, i], f"attribution of {expl.feature_names[i]}"
    elif y in ("main_effect", "interaction"):
        expl._need_interactions()
        if y == "main_effect":
            values, se = expl.interactions[:, i, i], expl.interactions_se[:, i, i]
            label = f"main effect of {expl.feature_names[i]}"
        else:
            if j is None:
                raise ValueError("y='interaction' needs an interaction_feature")
            values, se = 2 * expl.interactions[:, i, j], 2 * expl.interactions_se[:, i, j]
            label = f"interaction {expl.feature_names[i]} x {expl.feature_names[j]}"
    else:
        raise ValueError(f"y must be 'attribution', 'main_effect' or 'interaction', got {y!r}")
    x = expl.feature_values[:, i]
    marker = dict(size=7, opacity=0.85, line=dict(width=0))
    custom = [np.arange(expl.num_rows), se]
    hover = f"row %{{customdata[0]:d}}<br>{expl.feature_names[i]} %{{x:.4g}}<br>{label} %{{y:.4g}} ± %{{customdata[1]:.2g}}"
    if j is not None:
        marker.update(color=expl.feature_values[:, j], colorscale=VALUE_SCALE,
                      colorbar=dict(title=expl.feature_names[j], len=0.7), showscale=True)
        custom.append(expl.feature_values[:, j])
        hover += f"<br>{expl.feature_names[j]} %{{customdata[2]:.4g}}"
    else:
        marker.update(color="#1e88e5")
    fig = go.Figure(go.Scatter(
        x=x, y=values, mode="markers", name=expl.feature_names[i], marker=marker,
        customdata=np.stack(custom, axis=1), hovertemplate=hover + "<extra></extra>",
        error_y=dict(type="data", array=se, visible=True, thickness=1, width=0, color="#bbb") if error_bars else None,
    ))
    fig.add_hline(y=0.0, line=dict(color="#888", width=1))
    coloured = f", coloured by {expl.feature_names[j]}" if j is not None else ""
    fig.update_layout(template=TEMPLATE, title=title or f"{expl.feature_names[i]}: dependence{coloured}",
                      xaxis_title=f"{expl.feature_names[i]} (value)", yaxis_title=label,
                      height=420, margin=dict(l=10, r=10, t=60, b=50))
    fig.layout.meta = {"feature": expl.feature_names[i], "interaction_feature": None if j is None else expl.feature_names[j]}
    return fig


def interaction_heatmap(expl: TabularExplanation, *, max_features: int | None = None, diagonal: bool = False,
                        signed: bool = False, title: str | None = None) -> go.Figure:
    """Heatmap over features (ordered by importance) of the mean |interaction| over rows, or the mean signed
    interaction with ``signed=True`` (diverging colours). The diagonal (main effects, usually much larger) is
    blank unless ``diagonal=True``."""
    expl._need_interactions()
    order = expl.feature_ranking()[: max_features or expl.num_features]
    matrix = (expl.mean_interaction if signed else expl.mean_abs_interaction)[np.ix_(order, order)].copy()
    if not diagonal:
        np.fill_diagonal(matrix, np.nan)
    names = [expl.feature_names[i] for i in order]
    bound = float(np.nanmax(np.abs(matrix))) if np.isfinite(matrix).any() else 1.0
    heat = go.Heatmap(
        z=matrix, x=names, y=names, colorscale=DIVERGING if signed else HEAT_SCALE,
        zmin=-bound if signed else 0.0, zmax=bound, hoverongaps=False,
        colorbar=dict(title="mean interaction" if signed else "mean |interaction|"),
        hovertemplate="%{y} x %{x}<br>%{z:.4g}<extra></extra>",
    )
    fig = go.Figure(heat)
    fig.update_layout(template=TEMPLATE, title=title or f"Feature interactions over {expl.num_rows} rows",
                      yaxis=dict(autorange="reversed", scaleanchor="x"), xaxis=dict(tickangle=-45),
                      height=max(420, 22 * len(order) + 200), margin=dict(l=10, r=10, t=60, b=10))
    return fig


def top_pairs_plot(expl: TabularExplanation, k: int = 10, *, title: str | None = None) -> go.Figure:
    """Horizontal bars of the ``k`` pairs with the largest mean |interaction| (strongest at the top)."""
    pairs = expl.top_interactions(k)
    labels = [f"{a} x {b}" for a, b, _ in pairs][::-1]
    values = [v for _, _, v in pairs][::-1]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color="#7b3294",
                           hovertemplate="%{y}<br>mean |interaction| %{x:.4g}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, title=title or f"Top {len(pairs)} interacting pairs",
                      xaxis_title="mean |interaction| over rows", height=max(300, 26 * len(pairs) + 120),
                      margin=dict(l=10, r=10, t=60, b=50))
    return fig
