"""Arcs: the sentence on one line with an arc between each strongly interacting pair of words.

Arc width and opacity grow with ``|interactions[i, j]|``; colour is the sign (blue positive, red negative).
Only the strongest pairs are drawn (``DEFAULT_ARCS`` unless ``k`` or ``threshold`` say otherwise, never more
than ``max_arcs`` for a threshold), so a 30-word sentence stays readable."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from ._format import max_abs, truncate, value_text, word_label, word_text
from ._theme import base_layout, palette, sign_color, value_color

if TYPE_CHECKING:
    from ..explanation import Explanation

__all__ = ["plot_arcs", "select_pairs", "word_positions", "DEFAULT_ARCS", "MAX_ARCS"]

DEFAULT_ARCS = 10
MAX_ARCS = 40
_POINTS_PER_ARC = 41
_LONG_SENTENCE_CHARS = 100  # longer sentences get slanted labels
_SLANT = 40  # degrees
_CHAR_PX = 8.0  # width of one character of the 13 px label font (generous)


def select_pairs(
    expl: "Explanation", k: int | None = None, threshold: float | None = None, max_arcs: int = MAX_ARCS
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, interactions[i, j])``, ``i < j``, strongest ``|value|`` first: the top ``k`` when
    given; else all with ``|value| >= threshold`` (output units) up to ``max_arcs``; else the top
    ``DEFAULT_ARCS``. Pairs with value exactly 0 are never drawn."""
    n = len(expl.words)
    ranked = [t for t in expl.top_interaction_indices(n * (n - 1) // 2) if t[2] != 0.0]
    if k is not None:
        return ranked[: max(0, int(k))]
    if threshold is not None:
        return [t for t in ranked if abs(t[2]) >= threshold][:max_arcs]
    return ranked[:DEFAULT_ARCS]


def word_positions(words: list[str]) -> np.ndarray:
    """``(W,)`` x-centre of each word on one line, in character units (one word's width is its length,
    words are two characters apart)."""
    widths = np.array([max(1, len(w)) for w in words], dtype=np.float64)
    starts = np.concatenate([[0.0], np.cumsum(widths + 2.0)[:-1]])
    return starts + widths / 2


def _arc(x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
    """Points of a half-ellipse from ``x0`` to ``x1`` above the line, as tall as half its span."""
    t = np.linspace(0.0, np.pi, _POINTS_PER_ARC)
    centre, radius = (x0 + x1) / 2, abs(x1 - x0) / 2
    return centre - radius * np.cos(t), radius * np.sin(t)


def plot_arcs(
    expl: "Explanation", k: int | None = None, threshold: float | None = None, *, max_arcs: int = MAX_ARCS,
    theme: str = "light", **layout: Any,
) -> go.Figure:
    """Plotly figure: words on one line (markers coloured by attribution), arcs between the pairs chosen by
    :func:`select_pairs` (width 1-8 px and opacity by ``|value| / max |value|``, colour by sign, hover with the
    exact value). Extra keyword arguments update the layout."""
    expl._need_interactions()
    p = palette(theme)
    pairs = select_pairs(expl, k, threshold, max_arcs)
    shown = [truncate(w) for w in expl.words]  # as labelled
    x = word_positions(shown)
    strongest = max((abs(v) for _, _, v in pairs), default=0.0) or 1.0
    fig = go.Figure(layout=base_layout(p))
    for i, j, v in reversed(pairs):  # weakest first, so the strongest are drawn on top
        strength = abs(v) / strongest
        ax, ay = _arc(x[i], x[j])
        hover = f"<b>{word_label(expl, i)} × {word_label(expl, j)}</b><br>interaction[{i}, {j}]: {value_text(v)}"
        fig.add_trace(
            go.Scatter(
                x=ax, y=ay, mode="lines", line=dict(color=sign_color(v, p), width=1 + 7 * strength, shape="spline"),
                opacity=0.35 + 0.65 * strength, hovertext=[hover] * len(ax), hovertemplate="%{hovertext}<extra></extra>",
                name=f"{i}-{j}",
            )
        )
    vmax = max_abs(expl.attributions)
    fig.add_trace(
        go.Scatter(
            x=x, y=np.zeros_like(x), mode="markers", name="words",
            marker=dict(size=11, color=[value_color(a, vmax, p) for a in expl.attributions],
                        line=dict(width=1, color=p.muted)),
            hovertext=[f"<b>{word_label(expl, i)}</b><br>attribution: {value_text(a)}"
                       for i, a in enumerate(expl.attributions)],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    slanted = float(x[-1]) > _LONG_SENTENCE_CHARS if len(x) else False
    for i in range(len(expl.words)):
        fig.add_annotation(
            x=x[i], y=0, yshift=-12, text=word_text(expl, i), showarrow=False,
            yanchor="top", xanchor="right" if slanted else "center", textangle=-_SLANT if slanted else 0,
            font=dict(size=13, color=p.foreground),
        )
    label_px = int(_CHAR_PX * max(map(len, shown)) * np.sin(np.radians(_SLANT)) + 45) if slanted else 30
    left_px = int(_CHAR_PX * len(shown[0]) * np.cos(np.radians(_SLANT)) + 10) if slanted else 10
    top = max((abs(x[j] - x[i]) / 2 for i, j, _ in pairs), default=1.0)
    fig.update_layout(
        title=dict(text=f"Interaction arcs (strongest {len(pairs)} pair{'s' if len(pairs) != 1 else ''})"),
        xaxis=dict(visible=False, range=[float(x[0]) - 3, float(x[-1]) + 3] if len(x) else None),
        yaxis=dict(visible=False, range=[-0.02 * top, 1.08 * top]),
        height=260 + label_px,
        margin=dict(b=label_px + 10, l=left_px),
        hovermode="closest",
    )
    fig.update_layout(**layout)
    return fig
