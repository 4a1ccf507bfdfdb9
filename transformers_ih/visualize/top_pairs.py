"""Top pairs: a bar chart of the ``k`` strongest word-pair interactions, signed, strongest on top."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from ._hover import PAIR, PAIR_TOTAL, fill
from .format import hover_label, is_partial, unique_pair_labels, value_text
from .theme import base_layout, note_when_empty, palette, sign_color

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = ["plot_top_pairs"]


def plot_top_pairs(expl: Explanation, k: int = 10, *, theme: str = "light", **layout: Any) -> go.Figure:
    """Horizontal bars of the ``k`` pairs ``i < j`` with the largest ``|interactions[i, j]|``
    (:meth:`Explanation.top_interaction_indices`), labelled ``"word_i × word_j"``, strongest on top.

    A bar's length is ``interactions[i, j]`` in output units (signed; blue positive, red negative), the same
    number as the matrix cell; the pair's total interaction is twice that, shown on hover with the exact
    values. A partial matrix ranks only its computed cells. Extra keyword arguments update the layout."""
    p = palette(theme)
    top = expl.top_interaction_indices(k)
    labels = unique_pair_labels(expl, [(i, j) for i, j, _ in top])
    values = [v for _, _, v in top]
    hover = [
        fill(PAIR, a=hover_label(expl, i), b=hover_label(expl, j), i=i, j=j, value=value_text(v))
        + fill(PAIR_TOTAL, total=value_text(2 * v))
        for i, j, v in top
    ]
    bars = go.Bar(
        x=values,
        y=labels,
        orientation="h",
        marker=dict(color=[sign_color(v, p) for v in values]),
        hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>",
    )
    fig = go.Figure(bars, layout=base_layout(p))
    fig.update_layout(
        title=dict(
            text=f"Strongest interacting pairs (top {len(top)}"
            + (" of the computed cells: partial matrix" if is_partial(expl) else "")
            + ")"
        ),
        xaxis=dict(title=dict(text=f"interaction ({expl.output})"), zeroline=True, zerolinewidth=1.5),
        yaxis=dict(type="category", autorange="reversed"),
        height=160 + 28 * max(1, len(top)),
        bargap=0.25,
    )
    if not top:
        note_when_empty(fig, "no word pairs (fewer than two words)", p)
    fig.update_layout(**layout)
    return fig
