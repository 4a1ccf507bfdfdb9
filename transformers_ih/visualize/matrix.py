"""Interaction matrix: a feature × feature heatmap of ``interactions`` on a diverging scale centred at 0.

The diagonal (main effects) is hidden by default, because it is usually much larger than the pairwise terms
and would wash out their colours; a button toggles it (and rescales the colours to the shown values).

Partial matrices (explained with ``rows=``): cells that were not computed are drawn in the theme's neutral
``unknown`` grey by a second heatmap trace (hover: "not computed"), never as 0, and a note says how many rows
are exact. Long inputs: beyond :data:`DENSE` features the cells lose their gaps and the plot keeps a fixed size
(:data:`MAX_PLOT_PX`); drag to zoom into a block, and the category axes thin their tick labels by themselves.
``order="strength"`` lists the features with the strongest known interactions first (the exact rows of a partial
matrix first, so they form one block), within each block of ``word_groups``.

The report draws a lean copy of this figure (:func:`report_figure`: layout and menus, no per-cell data); its
script lays out the cells in the browser from the report's data: the values and their texts written here in Python
(:mod:`._numbers`), the colour ranges and orders of :func:`report_data`, and the hover templates of :mod:`._hover`
(the same ones :func:`plot_interactions` fills)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import plotly.graph_objects as go

from ._hover import cell_text
from .escape import plotly_text
from .format import feature_noun, full_rows, hover_label, known_cells, max_abs, value_text, word_labels
from .theme import Palette, base_layout, control_style, palette, plotly_colorscale

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = [
    "plot_interactions",
    "report_figure",
    "report_data",
    "feature_order",
    "ORDERS",
    "HIDE_DIAGONAL_LABEL",
    "SHOW_DIAGONAL_LABEL",
    "TEXT_ORDER_LABEL",
    "STRENGTH_ORDER_LABEL",
    "NOT_COMPUTED",
    "DENSE",
    "MAX_PLOT_PX",
]

HIDE_DIAGONAL_LABEL = "Hide diagonal"
SHOW_DIAGONAL_LABEL = "Show diagonal (main effects)"
TEXT_ORDER_LABEL = "Text order"
STRENGTH_ORDER_LABEL = "Strongest first"
ORDERS = ("text", "strength")
NOT_COMPUTED = "not computed"
DENSE = 60
"""Beyond this many features, cells are drawn without gaps."""
MAX_PLOT_PX = 860
"""Largest side of the matrix's plot area (pixels); longer inputs get smaller cells (zoom in to read them)."""

_MENU_NAMES = ("ih-diagonal", "ih-order")


def feature_order(expl: Explanation, order: str = "text") -> list[int]:
    """Positions of the features as the matrix lists them: ``"text"`` (text order) or ``"strength"``: by the norm
    of each row's known off-diagonal interactions, strongest first, rows known in full (the exact rows of a
    partial matrix) before the others; within each run of equal ``word_groups`` (the texts of a pair stay blocks)."""
    n = len(expl.words)
    if order == "text":
        return list(range(n))
    if order != "strength":
        raise ValueError(f"unknown order {order!r}; use one of {list(ORDERS)}")
    known = known_cells(expl)
    off = np.where(known, cast(np.ndarray, expl.interactions), 0.0)
    np.fill_diagonal(off, 0.0)
    strength = np.sqrt((off**2).sum(axis=1))
    full = cast(np.ndarray, known.all(axis=1))
    groups = expl.word_groups or [0] * n
    result: list[int] = []
    start = 0
    for i in range(1, n + 1):
        if i == n or groups[i] != groups[start]:
            result += sorted(range(start, i), key=lambda j: (not full[j], -strength[j], j))
            start = i
    return result


def _hover_texts(
    expl: Explanation, known: np.ndarray, rows: list[int] | None = None, columns: list[int] | None = None
) -> list[list[str]]:
    """Hover strings (:func:`._hover.cell_text`) of the cells ``rows`` × ``columns`` (default: all, in text order):
    both (whole) words and the value; off-diagonal cells whose two halves are known also give the pair's total
    ``m[i, j] + m[j, i]``; unknown cells say "not computed"."""
    m = cast(np.ndarray, expl.interactions)
    labels = [hover_label(expl, i) for i in range(len(expl.words))]
    n = len(labels)
    texts = []
    for i in range(n) if rows is None else rows:
        row = []
        for j in range(n) if columns is None else columns:
            value = value_text(m[i, j]) if known[i, j] else NOT_COMPUTED
            total = value_text(m[i, j] + m[j, i]) if i != j and known[i, j] and known[j, i] else None
            row.append(cell_text(labels[i], labels[j], i, j, value, total))
        texts.append(row)
    return texts


def _shown(expl: Explanation, known: np.ndarray, hide_diagonal: bool) -> np.ndarray:
    """The matrix as drawn by the main trace: NaN where unknown and (when hidden) on the diagonal."""
    shown = np.where(known, cast(np.ndarray, expl.interactions), np.nan)
    if hide_diagonal:
        np.fill_diagonal(shown, np.nan)
    return shown


def _z(shown: np.ndarray, order: list[int]) -> list[list[float | None]]:
    """``shown`` in ``order`` as nested lists, ``None`` (a gap in the heatmap) for every NaN."""
    return [[None if np.isnan(v) else float(v) for v in shown[i, order]] for i in order]


def _vmax(shown: np.ndarray) -> float:
    """Half-width of the symmetric colour range (output units): the largest ``|value|`` shown, 1.0 if none."""
    return max_abs(shown) or 1.0


def _restyle_args(expl: Explanation, known: np.ndarray, order: list[int], hide_diagonal: bool) -> dict[str, Any]:
    """The main trace's ``z`` and symmetric colour range (:func:`_vmax`)."""
    shown = _shown(expl, known, hide_diagonal)
    vmax = _vmax(shown)
    return {"z": [_z(shown, order)], "zmin": [-vmax], "zmax": [vmax]}


def report_data(expl: Explanation) -> dict[str, Any]:
    """What the report's script needs, besides the values, to lay out the matrix: ``vmax``, the colour range's
    half-width with the diagonal ``"hidden"`` and ``"shown"`` (output units; the same in every order), and
    ``orders``: ``{"strength": feature_order(expl, "strength")}`` (text order is ``0 .. W-1``)."""
    known = known_cells(expl)
    return {
        "vmax": {"hidden": _vmax(_shown(expl, known, True)), "shown": _vmax(_shown(expl, known, False))},
        "orders": {"strength": feature_order(expl, "strength")},
    }


def _group_boundaries(expl: Explanation) -> list[float]:
    """Positions (between cells) where ``word_groups`` changes, e.g. between the two texts of a pair."""
    groups = expl.word_groups or []
    return [i - 0.5 for i in range(1, len(groups)) if groups[i] != groups[i - 1]]


def _unknown_note(expl: Explanation, p: Palette) -> str:
    """The title's second line for a partial matrix: the grey swatch, "not computed", how many rows are exact."""
    rows = int(full_rows(expl).sum())
    return (
        f'<br><sup><span style="color:{p.unknown}">■</span> {NOT_COMPUTED} (partial matrix: {rows} of '
        f"{len(expl.words)} rows exact)</sup>"
    )


def _menus(p: Palette, show_diagonal: bool, order: str, restyle: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The diagonal toggle (``restyle`` args given: plotly restyles; ``None``: the report's script does) and, in
    the report, the order switch."""
    labels = (HIDE_DIAGONAL_LABEL, SHOW_DIAGONAL_LABEL)
    if restyle is not None:
        diagonal = [dict(label=label, method="restyle", args=[args, [0]]) for label, args in zip(labels, restyle)]
    else:
        diagonal = [dict(label=label, method="skip", args=[]) for label in labels]
    menus = [
        dict(
            type="buttons",
            direction="right",
            active=1 if show_diagonal else 0,
            buttons=diagonal,
            name=_MENU_NAMES[0],
            x=0.0,
            xanchor="left",
            y=1.0,
            yanchor="bottom",
            pad=dict(t=4, b=8),
            **control_style(p),
        )
    ]
    if restyle is None:
        orders = [dict(label=label, method="skip", args=[]) for label in (TEXT_ORDER_LABEL, STRENGTH_ORDER_LABEL)]
        menus.append(
            dict(
                type="buttons",
                direction="right",
                active=ORDERS.index(order),
                buttons=orders,
                name=_MENU_NAMES[1],
                x=0.0,
                xanchor="left",
                y=1.0,
                yanchor="bottom",
                pad=dict(t=4, b=46),
                **control_style(p),
            )
        )
    return menus


def _figure(expl: Explanation, p: Palette, show_diagonal: bool, order: str, lean: bool) -> go.Figure:
    n = len(expl.words)
    known = known_cells(expl)
    partial = not bool(known.all())
    positions = feature_order(expl, order)
    ticks = word_labels(expl)
    labels = [ticks[i] for i in positions]
    cell_px = min(48.0, max(18.0, 640.0 / max(n, 1)))
    plot_px = min(cell_px * n, float(MAX_PLOT_PX))
    cell_px = plot_px / max(n, 1)
    gap = 1 if cell_px >= 6 else 0
    common = dict(hovertemplate="%{text}<extra></extra>", hoverongaps=False, xgap=gap, ygap=gap)
    if lean:  # cells, labels and hover text come from the report's data, in the browser
        main = go.Heatmap(
            zmid=0.0,
            colorscale=plotly_colorscale(p),
            name="interactions",
            colorbar=dict(
                title=dict(text=f"interaction<br>({plotly_text(expl.output)})"), thickness=14, outlinewidth=0
            ),
            **common,
        )
        restyle = None
    else:
        texts = _hover_texts(expl, known, positions, positions)
        start = _restyle_args(expl, known, positions, hide_diagonal=not show_diagonal)
        main = go.Heatmap(
            z=start["z"][0],
            x=labels,
            y=labels,
            zmid=0.0,
            zmin=start["zmin"][0],
            zmax=start["zmax"][0],
            colorscale=plotly_colorscale(p),
            text=texts,
            name="interactions",
            colorbar=dict(
                title=dict(text=f"interaction<br>({plotly_text(expl.output)})"), thickness=14, outlinewidth=0
            ),
            **common,
        )
        restyle = [_restyle_args(expl, known, positions, hide_diagonal=hide) for hide in (True, False)]
    traces = [main]
    if partial:
        unknown = dict(
            colorscale=[[0.0, p.unknown], [1.0, p.unknown]],
            zmin=0.0,
            zmax=1.0,
            showscale=False,
            name=NOT_COMPUTED,
            **common,
        )
        if not lean:
            unknown.update(
                z=[[None if known[i, j] else 1 for j in positions] for i in positions], x=labels, y=labels, text=texts
            )
        traces.append(go.Heatmap(**unknown))
    fig = go.Figure(traces, layout=base_layout(p))
    boundaries = _group_boundaries(expl)
    shapes = [
        dict(type="line", xref="x", yref="y domain", x0=b, x1=b, y0=0, y1=1, line=dict(color=p.foreground, width=2))
        for b in boundaries
    ] + [
        dict(type="line", xref="x domain", yref="y", x0=0, x1=1, y0=b, y1=b, line=dict(color=p.foreground, width=2))
        for b in boundaries
    ]
    tick_size = 13 if n <= 15 else 11 if n <= 30 else 9
    tick_angle = -45 if n <= 20 else -90
    longest_px = 0.6 * tick_size * max((len(label) for label in ticks), default=1)
    below_px = longest_px * (0.72 if n <= 20 else 1.0) + 30  # slanted or vertical x tick labels
    colorbar_px = 130
    top_px = 40 + (22 if partial else 0) + 48 + (40 if lean else 0)  # title, its note, the two rows of switches
    noun = feature_noun(expl, plural=True)
    fig.update_layout(
        title=dict(
            text=f"Interactions between {noun}" + (_unknown_note(expl, p) if partial else ""),
            yref="container",
            y=1.0,
            yanchor="top",
            pad=dict(t=12),
        ),
        xaxis=dict(
            type="category", tickangle=tick_angle, tickfont=dict(size=tick_size), showgrid=False, constrain="domain"
        ),
        yaxis=dict(
            type="category",
            autorange="reversed",
            tickfont=dict(size=tick_size),
            showgrid=False,
            scaleanchor="x",
            constrain="domain",
        ),
        height=int(plot_px + below_px + top_px + 10),
        width=int(max(460, plot_px + longest_px + colorbar_px + 40)),
        margin=dict(t=top_px),
        plot_bgcolor=p.border,  # shows through the hidden diagonal and the gaps between cells
        shapes=shapes,
        updatemenus=_menus(p, show_diagonal, order, restyle),
        hovermode="closest",
    )
    return fig


def plot_interactions(
    expl: Explanation, show_diagonal: bool = False, *, order: str = "text", theme: str = "light", **layout: Any
) -> go.Figure:
    """Plotly heatmap of ``expl.interactions`` (``(W, W)``, output units).

    Axes list the words as ``"word [position]"`` (repeated words stay distinct), top-to-bottom and
    left-to-right in text order (``order="strength"``: see :func:`feature_order`). Colours: ``zmid=0`` with
    ``zmin = -zmax`` (blue positive, red negative). Hover gives both words, the exact cell value and the pair's
    total (``m[i, j] + m[j, i]``). The diagonal is hidden unless ``show_diagonal``; an ``updatemenus`` button
    toggles it. Cells not computed (partial matrices) are grey, in a second trace, and never count in the
    colour range. Extra keyword arguments update the layout.
    """
    expl._need_interactions()
    fig = _figure(expl, palette(theme), show_diagonal, order, lean=False)
    fig.update_layout(**layout)
    return fig


def report_figure(
    expl: Explanation, *, theme: str = "light", show_diagonal: bool = False, order: str | None = None
) -> go.Figure:
    """The report's lean matrix: the layout, the diagonal and order switches (``method="skip"``, handled by the
    report's script) and empty traces; the script lays out labels, cells and hover text from the report's data
    (main trace first, then the "not computed" trace when the matrix is partial; see :func:`report_data`).
    ``order``: first shown; default text order, or ``"strength"`` for a partial matrix (its exact rows then form
    one block)."""
    expl._need_interactions()
    if order is None:
        order = "strength" if not known_cells(expl).all() else "text"
    return _figure(expl, palette(theme), show_diagonal, order, lean=True)
