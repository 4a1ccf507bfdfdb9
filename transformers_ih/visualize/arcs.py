"""Arcs: the sentence on one line with an arc between each strongly interacting pair of words.

Arc width and opacity grow with ``|interactions[i, j]|``; colour is the sign (blue positive, red negative).
Only the strongest pairs are drawn (``DEFAULT_ARCS`` unless ``k`` or ``threshold`` say otherwise, never more
than ``max_arcs`` for a threshold), so a 30-word sentence stays readable. Beyond :data:`LABEL_ALL` words only the
words an arc ends at are labelled (every word keeps its marker and hover). A partial matrix draws only computed
pairs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from ._hover import ATTRIBUTION, PAIR, fill
from .format import hover_label, is_partial, max_abs, truncate, value_text, word_text
from .theme import Palette, base_layout, palette, sign_color, value_color

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = ["plot_arcs", "report_figure", "select_pairs", "word_positions", "DEFAULT_ARCS", "MAX_ARCS", "LABEL_ALL"]

DEFAULT_ARCS = 10
MAX_ARCS = 40
LABEL_ALL = 60
"""Up to this many words, every word is labelled; beyond, only the ends of the arcs drawn."""
_POINTS_PER_ARC = 41
_LONG_SENTENCE_CHARS = 100  # longer sentences get slanted labels
_SLANT = 40  # degrees
_CHAR_PX = 8.0  # width of one character of the 13 px label font (generous)


def select_pairs(
    expl: Explanation, k: int | None = None, threshold: float | None = None, max_arcs: int = MAX_ARCS
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, interactions[i, j])``, ``i < j``, strongest ``|value|`` first: the top ``k`` when
    given; else all with ``|value| >= threshold`` (output units) up to ``max_arcs``; else the top
    ``DEFAULT_ARCS``. Pairs with value exactly 0, and cells not computed (partial matrices), are never drawn."""
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
    expl: Explanation,
    k: int | None = None,
    threshold: float | None = None,
    *,
    max_arcs: int = MAX_ARCS,
    theme: str = "light",
    **layout: Any,
) -> go.Figure:
    """Plotly figure: words on one line (markers coloured by attribution), arcs between the pairs chosen by
    :func:`select_pairs` (width 1-8 px and opacity by ``|value| / max |value|``, colour by sign, hover with the
    exact value). Extra keyword arguments update the layout."""
    expl._need_interactions()
    fig = _figure(expl, k, threshold, max_arcs, palette(theme), lean=False)
    fig.update_layout(**layout)
    return fig


def report_figure(
    expl: Explanation,
    k: int | None = None,
    threshold: float | None = None,
    *,
    max_arcs: int = MAX_ARCS,
    theme: str = "light",
) -> go.Figure:
    """The report's arcs: as :func:`plot_arcs`, but the word markers' hover text (one per word, the trace named
    ``"words"``) is left to the report's script, which fills :data:`._hover.ATTRIBUTION` with the report's labels
    and the attributions' texts written in Python."""
    expl._need_interactions()
    return _figure(expl, k, threshold, max_arcs, palette(theme), lean=True)


def _figure(
    expl: Explanation, k: int | None, threshold: float | None, max_arcs: int, p: Palette, lean: bool
) -> go.Figure:
    pairs = select_pairs(expl, k, threshold, max_arcs)
    shown = [truncate(w) for w in expl.words]  # as labelled
    x = word_positions(shown)
    strongest = max((abs(v) for _, _, v in pairs), default=0.0) or 1.0
    fig = go.Figure(layout=base_layout(p))
    for i, j, v in reversed(pairs):  # weakest first, so the strongest are drawn on top
        strength = abs(v) / strongest
        ax, ay = _arc(x[i], x[j])
        hover = fill(PAIR, a=hover_label(expl, i), b=hover_label(expl, j), i=i, j=j, value=value_text(v))
        fig.add_trace(
            go.Scatter(  # one hover string for the whole arc
                x=ax,
                y=ay,
                mode="lines",
                line=dict(color=sign_color(v, p), width=1 + 7 * strength, shape="spline"),
                opacity=0.35 + 0.65 * strength,
                hovertext=hover,
                hovertemplate="%{hovertext}<extra></extra>",
                name=f"{i}-{j}",
            )
        )
    vmax = max_abs(expl.attributions)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=np.zeros_like(x),
            mode="markers",
            name="words",
            marker=dict(
                size=11, color=[value_color(a, vmax, p) for a in expl.attributions], line=dict(width=1, color=p.muted)
            ),
            hovertext=None
            if lean
            else [
                fill(ATTRIBUTION, a=hover_label(expl, i), value=value_text(a)) for i, a in enumerate(expl.attributions)
            ],
            hovertemplate="%{hovertext}<extra></extra>",
        )
    )
    slanted = float(x[-1]) > _LONG_SENTENCE_CHARS if len(x) else False
    n = len(expl.words)
    labelled = range(n) if n <= LABEL_ALL else sorted({w for i, j, _ in pairs for w in (i, j)})
    labels = [  # set at once: plotly validates every annotation again on each add_annotation
        dict(
            x=float(x[i]),
            y=0,
            yshift=-12,
            text=word_text(expl, i),
            showarrow=False,
            yanchor="top",
            xanchor="right" if slanted else "center",
            textangle=-_SLANT if slanted else 0,
            font=dict(size=13, color=p.foreground),
        )
        for i in labelled
    ]
    longest = max((len(shown[i]) for i in labelled), default=1)
    first = len(shown[labelled[0]]) if len(labelled) else 0
    label_px = int(_CHAR_PX * longest * np.sin(np.radians(_SLANT)) + 45) if slanted else 30
    left_px = int(_CHAR_PX * first * np.cos(np.radians(_SLANT)) + 10) if slanted else 10
    top = max((abs(x[j] - x[i]) / 2 for i, j, _ in pairs), default=1.0)
    fig.update_layout(
        title=dict(
            text=f"Interaction arcs (strongest {len(pairs)} pair{'s' if len(pairs) != 1 else ''}"
            + (" of the computed cells" if is_partial(expl) else "")
            + ")"
            + ("" if n <= LABEL_ALL else "<br><sup>words labelled where arcs end; hover a marker for any word</sup>")
        ),
        xaxis=dict(visible=False, range=[float(x[0]) - 3, float(x[-1]) + 3] if len(x) else None),
        yaxis=dict(visible=False, range=[-0.02 * top, 1.08 * top]),
        height=260 + label_px,
        margin=dict(b=label_px + 10, l=left_px),
        hovermode="closest",
        annotations=labels,
    )
    return fig
