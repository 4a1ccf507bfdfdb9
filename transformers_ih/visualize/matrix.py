"""Interaction matrix: a word × word heatmap of ``interactions`` on a diverging scale centred at 0.

The diagonal (main effects) is hidden by default, because it is usually much larger than the pairwise terms
and would wash out their colours; a button toggles it (and rescales the colours to the shown values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from ._format import max_abs, value_text, word_labels
from ._theme import base_layout, control_style, palette, plotly_colorscale

if TYPE_CHECKING:
    from ..explanation import Explanation

__all__ = ["plot_interactions", "HIDE_DIAGONAL_LABEL", "SHOW_DIAGONAL_LABEL"]

HIDE_DIAGONAL_LABEL = "Hide diagonal"
SHOW_DIAGONAL_LABEL = "Show diagonal (main effects)"


def _hover_texts(expl: "Explanation") -> list[list[str]]:
    """``(W, W)`` hover strings: both (whole) words and the value; off-diagonal cells also give the pair's total."""
    m = expl.interactions
    labels = word_labels(expl, max_chars=None)
    n = len(labels)
    texts = []
    for i in range(n):
        row = []
        for j in range(n):
            if i == j:
                row.append(f"<b>{labels[i]}</b><br>main effect: {value_text(m[i, i])}")
            else:
                total = m[i, j] + m[j, i]
                row.append(
                    f"<b>{labels[i]} × {labels[j]}</b><br>interaction[{i}, {j}]: {value_text(m[i, j])}"
                    f"<br>pair total (both halves): {value_text(total)}"
                )
        texts.append(row)
    return texts


def _z(matrix: np.ndarray, hide_diagonal: bool) -> list[list[float | None]]:
    """The matrix as nested lists, with ``None`` (a gap in the heatmap) on the diagonal when hidden."""
    z: list[list[float | None]] = matrix.tolist()
    if hide_diagonal:
        for i in range(len(z)):
            z[i][i] = None
    return z


def _color_range(matrix: np.ndarray, hide_diagonal: bool) -> float:
    """Half-width of the symmetric colour range: the largest ``|value|`` shown (1.0 if all are zero)."""
    shown = matrix.copy()
    if hide_diagonal:
        np.fill_diagonal(shown, np.nan)
    return max_abs(shown) or 1.0


def _restyle_args(matrix: np.ndarray, hide_diagonal: bool) -> dict[str, Any]:
    vmax = _color_range(matrix, hide_diagonal)
    return {"z": [_z(matrix, hide_diagonal)], "zmin": [-vmax], "zmax": [vmax]}


def _group_boundaries(expl: "Explanation") -> list[float]:
    """Positions (between cells) where ``word_groups`` changes, e.g. between the two texts of a pair."""
    groups = expl.word_groups or []
    return [i - 0.5 for i in range(1, len(groups)) if groups[i] != groups[i - 1]]


def plot_interactions(
    expl: "Explanation", show_diagonal: bool = False, *, theme: str = "light", **layout: Any
) -> go.Figure:
    """Plotly heatmap of ``expl.interactions`` (``(W, W)``, output units).

    Axes list the words as ``"word [position]"`` (repeated words stay distinct), top-to-bottom and
    left-to-right in text order. Colours: ``zmid=0`` with ``zmin = -zmax`` (blue positive, red negative).
    Hover gives both words, the exact cell value and the pair's total (``m[i, j] + m[j, i]``). The diagonal
    is hidden unless ``show_diagonal``; an ``updatemenus`` button toggles it. Extra keyword arguments update
    the layout.
    """
    expl._need_interactions()
    p = palette(theme)
    matrix = expl.interactions
    n = len(expl.words)
    labels = word_labels(expl)
    start = _restyle_args(matrix, hide_diagonal=not show_diagonal)
    heatmap = go.Heatmap(
        z=start["z"][0], x=labels, y=labels, zmid=0.0, zmin=start["zmin"][0], zmax=start["zmax"][0],
        colorscale=plotly_colorscale(p), text=_hover_texts(expl),
        hovertemplate="%{text}<extra></extra>", hoverongaps=False, xgap=1, ygap=1,
        colorbar=dict(title=dict(text=f"interaction<br>({expl.output})"), thickness=14, outlinewidth=0),
    )
    fig = go.Figure(heatmap, layout=base_layout(p))
    buttons = [
        dict(label=HIDE_DIAGONAL_LABEL, method="restyle", args=[_restyle_args(matrix, hide_diagonal=True)]),
        dict(label=SHOW_DIAGONAL_LABEL, method="restyle", args=[_restyle_args(matrix, hide_diagonal=False)]),
    ]
    shapes = [
        dict(type="line", xref="x", yref="y domain", x0=b, x1=b, y0=0, y1=1, line=dict(color=p.foreground, width=2))
        for b in _group_boundaries(expl)
    ] + [
        dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=b, y1=b, line=dict(color=p.foreground, width=2))
        for b in _group_boundaries(expl)
    ]
    cell_px = min(48.0, max(18.0, 640.0 / max(n, 1)))
    tick_size = 13 if n <= 15 else 11 if n <= 30 else 9
    tick_angle = -45 if n <= 20 else -90
    longest_px = 0.6 * tick_size * max((len(label) for label in labels), default=1)
    below_px = longest_px * (0.72 if n <= 20 else 1.0) + 30  # slanted or vertical x tick labels
    colorbar_px = 130
    fig.update_layout(
        title=dict(text="Interactions between words"),
        xaxis=dict(type="category", tickangle=tick_angle, tickfont=dict(size=tick_size), showgrid=False,
                   constrain="domain"),
        yaxis=dict(type="category", autorange="reversed", tickfont=dict(size=tick_size), showgrid=False,
                   scaleanchor="x", constrain="domain"),
        height=int(cell_px * n + below_px + 110),
        width=int(max(460, cell_px * n + longest_px + colorbar_px + 40)),
        margin=dict(t=100),
        plot_bgcolor=p.border,  # shows through the hidden diagonal and the gaps between cells
        shapes=shapes,
        updatemenus=[
            dict(
                type="buttons", direction="right", active=1 if show_diagonal else 0, buttons=buttons,
                x=0.0, xanchor="left", y=1.0, yanchor="bottom", pad=dict(t=4, b=8), **control_style(p),
            )
        ],
    )
    fig.update_layout(**layout)
    return fig
