"""Word focus: one word's attribution split into its main effect and its interaction with every other word.

Row ``i`` of the interaction matrix sums to ``attributions[i]``, so the bars of this view (``interactions[i, j]``
for every ``j``, the ``j = i`` bar being the main effect) add up exactly to the word's attribution. Long inputs
keep :data:`FOCUS_BARS` bars (the strongest, the rest summed into one); a partial matrix offers the words whose
rows were computed.

The report's chart is lean (:func:`report_figure`); its script draws the chosen word's bars from
:func:`report_data` (which bars, their signs, the title, all chosen and written here) and the report's values,
filling the hover templates of :mod:`._hover` that :func:`plot_word_focus` fills too."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import plotly.graph_objects as go

from ._hover import FOCUS_MAIN, FOCUS_REST, PAIR, fill
from ._numbers import encode_values
from .escape import plotly_text
from .format import TICK_CHARS, feature_noun, full_rows, hover_label, short, value_text, word_label, word_text
from .theme import Palette, base_layout, control_style, palette, sign, sign_color

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = [
    "resolve_word",
    "focus_components",
    "focus_bars",
    "focus_rows",
    "plot_word_focus",
    "report_figure",
    "report_data",
    "FOCUS_BARS",
    "MAIN_OUTLINE",
]

FOCUS_BARS = 40
"""Most bars in a focus chart: beyond it, the weakest interactions are summed into one "other words" bar."""
MAIN_OUTLINE = 3
"""Outline width (pixels) of the main-effect bar; the other bars have none."""


def resolve_word(expl: Explanation, word: int | str) -> int:
    """The position of ``word``: an index ``0 <= word < W``, or a word string (its first occurrence; exact
    match first, then case-insensitive). Raises ``IndexError`` / ``ValueError`` with the words listed."""
    n = len(expl.words)
    if isinstance(word, bool) or not isinstance(word, (Integral, str)):
        raise TypeError(f"word must be a position (int) or a word (str), not {type(word).__name__}")
    if isinstance(word, Integral):
        word = int(word)
        if not 0 <= word < n:
            raise IndexError(f"word position {word} out of range for {n} words")
        return word
    if word in expl.words:
        return expl.words.index(word)
    folded = [w.casefold() for w in expl.words]
    if word.casefold() in folded:
        return folded.index(word.casefold())
    raise ValueError(f"word {word!r} is not in this explanation; its words are {expl.words!r}")


def focus_components(expl: Explanation, i: int) -> list[float]:
    """Row ``i`` of the interaction matrix as floats: ``[m[i, 0], ..., m[i, W-1]]`` (``m[i, i]`` = main
    effect). They sum to ``attributions[i]`` up to the engine's numerical error."""
    expl._need_interactions()
    return [float(v) for v in cast(np.ndarray, expl.interactions)[i]]


def focus_bars(expl: Explanation, i: int, max_bars: int = FOCUS_BARS) -> list[tuple[int | None, float]]:
    """The bars of word ``i``'s focus chart as ``(j, value)``, in text order: every ``j`` (``j == i`` is the main
    effect) when there are at most ``max_bars`` words; else the main effect, the ``max_bars - 2`` strongest
    interactions and a last bar ``(None, sum of the rest)`` for the other words, so the bars still add up to the
    attribution. Row ``i`` must be known in full (an exact row of a partial matrix)."""
    values = focus_components(expl, i)
    n = len(values)
    if n <= max_bars:
        return list(enumerate(values))
    others = sorted((j for j in range(n) if j != i), key=lambda j: (-abs(values[j]), j))
    kept = sorted([i, *others[: max_bars - 2]])
    rest = others[max_bars - 2 :]
    return [(j, values[j]) for j in kept] + [(None, float(sum(values[j] for j in rest)))]


def focus_rows(expl: Explanation) -> list[int]:
    """The words a focus chart can show: those whose row of the interaction matrix is known in full."""
    expl._need_interactions()
    return [int(i) for i in np.flatnonzero(full_rows(expl))]


def _check_row(expl: Explanation, i: int) -> None:
    if not full_rows(expl)[i]:
        rows = focus_rows(expl)
        raise ValueError(
            f"the interaction row of word {expl.words[i]!r} [{i}] was not computed (partial matrix); "
            f"exact rows: {[f'{expl.words[j]} [{j}]' for j in rows]}"
        )


def _rest_label(expl: Explanation) -> str | None:
    """Category of the last bar of a long focus chart, e.g. ``"61 other words"`` (None up to FOCUS_BARS words)."""
    n = len(expl.words)
    return None if n <= FOCUS_BARS else f"{n - FOCUS_BARS + 1} other {feature_noun(expl, plural=True)}"


def _main_tick(expl: Explanation, i: int) -> str:
    """Category of word ``i``'s main-effect bar: ``"main effect: word [i]"`` (shortened, escaped)."""
    return f"main effect: {word_label(expl, i, TICK_CHARS)}"


def _bars(expl: Explanation, i: int, theme_palette: Palette) -> dict[str, Any]:
    """The bar trace's data for focus word ``i``: categories, values, colours, outline, hover text."""
    bars = focus_bars(expl, i)
    focus = hover_label(expl, i)
    what = _rest_label(expl)
    labels, hover, values = [], [], []
    for j, v in bars:
        values.append(v)
        if j is None:
            labels.append(what)
            hover.append(fill(FOCUS_REST, what=what, a=focus, value=value_text(v)))
        elif j == i:
            labels.append(_main_tick(expl, i))
            hover.append(fill(FOCUS_MAIN, a=focus, value=value_text(v)))
        else:
            labels.append(word_label(expl, j, TICK_CHARS))
            hover.append(fill(PAIR, a=focus, b=hover_label(expl, j), i=i, j=j, value=value_text(v)))
    outline = [MAIN_OUTLINE if j == i else 0 for j, _ in bars]
    return dict(
        x=labels,
        y=values,
        hovertext=hover,
        marker=dict(
            color=[sign_color(v, theme_palette) for v in values],
            line=dict(width=outline, color=theme_palette.foreground),
        ),
    )


def _title(expl: Explanation, i: int) -> str:
    m = cast(np.ndarray, expl.interactions)
    main = float(m[i, i])
    rest = float(m[i].sum()) - main
    return (
        f"“{word_text(expl, i, 2 * TICK_CHARS)}” [{i}]: attribution {short(expl.attributions[i])}"
        f"<br><sup>= main effect {short(main)} + interactions with other {feature_noun(expl, plural=True)} "
        f"{short(rest)} ({plotly_text(expl.output)} units)</sup>"
    )


def _selector(expl: Explanation, selected: int, p: Palette, lean: bool = False) -> dict[str, Any]:
    """A dropdown (``updatemenus``) that re-targets the figure at any word whose row is known. ``lean``: buttons
    without data (``method="skip"``), for the report's script to redraw."""
    buttons: list[dict[str, Any]] = []
    rows = focus_rows(expl)
    for i in rows:
        if lean:
            buttons.append(dict(label=word_label(expl, i, TICK_CHARS), method="skip", args=[]))
            continue
        bars = _bars(expl, i, p)
        trace_update = {
            "x": [bars["x"]],
            "y": [bars["y"]],
            "hovertext": [bars["hovertext"]],
            "marker.color": [bars["marker"]["color"]],
            "marker.line.width": [bars["marker"]["line"]["width"]],
        }
        buttons.append(
            dict(
                label=word_label(expl, i, TICK_CHARS),
                method="update",
                args=[trace_update, {"title.text": _title(expl, i)}],
            )
        )
    return dict(
        type="dropdown",
        buttons=buttons,
        active=rows.index(selected),
        x=1.0,
        xanchor="right",
        y=1.0,
        yanchor="bottom",
        pad=dict(b=8),
        name="ih-focus",
        **control_style(p),
    )


def _focus_word(expl: Explanation, word: int | str | None) -> int | None:
    """The word to show: ``word`` resolved (its row must be known), or the known row with the largest
    ``|attribution|``; None when no row is known in full."""
    if word is not None:
        i = resolve_word(expl, word)
        _check_row(expl, i)
        return i
    rows = focus_rows(expl)
    if not rows:
        return None
    return int(max(rows, key=lambda j: abs(expl.attributions[j])))


def _layout(expl: Explanation, p: Palette, title: str) -> dict[str, Any]:
    return dict(
        title=dict(text=title),
        xaxis=dict(type="category", tickangle=-45),
        yaxis=dict(title=dict(text=f"contribution ({plotly_text(expl.output)})"), zeroline=True, zerolinewidth=1.5),
        height=460,
        margin=dict(t=110),
    )


def plot_word_focus(
    expl: Explanation,
    word: int | str | None = None,
    *,
    selector: bool = False,
    theme: str = "light",
    **layout: Any,
) -> go.Figure:
    """Bar chart of word ``word``'s attribution split into its main effect (outlined bar) and its
    interaction ``interactions[i, j]`` with every other word ``j`` (one bar each, text order, output units).
    The bars sum to ``attributions[i]``; the title states the split. Beyond :data:`FOCUS_BARS` words, the
    weakest interactions share one last bar (see :func:`focus_bars`).

    ``word``: position or string (first occurrence, see :func:`resolve_word`); ``None`` picks the word with
    the largest ``|attribution|``. In a partial matrix only words whose row was computed can be shown (others
    raise ``ValueError`` naming the exact rows). ``selector=True`` adds a dropdown to switch to any other such
    word. Extra keyword arguments update the layout."""
    expl._need_interactions()
    p = palette(theme)
    i = _focus_word(expl, word)
    if i is None:
        raise ValueError("no row of this partial interaction matrix is known in full: explain with rows= to get some")
    bars = go.Bar(**_bars(expl, i, p), hovertemplate="%{hovertext}<extra></extra>")
    fig = go.Figure(bars, layout=base_layout(p))
    fig.update_layout(**_layout(expl, p, _title(expl, i)), updatemenus=[_selector(expl, i, p)] if selector else [])
    fig.update_layout(**layout)
    return fig


def report_data(expl: Explanation) -> dict[str, Any]:
    """What the report's script draws a focus chart from, for each word it can show (index ``k`` follows the
    menu: ``rows[k]`` is the word, see :func:`focus_rows`): ``bars[k]`` (the bars' ``j`` of :func:`focus_bars`,
    ``None`` for the "other words" bar), ``signs[k]`` (one ``"+"`` / ``"-"`` a bar, :func:`.theme.sign`: the
    colour), ``ticks[k]`` (the main-effect bar's category), ``titles[k]``; ``rest``: the "other words" bar's
    value for each word (packed by :func:`._numbers.encode_values`; empty up to FOCUS_BARS words) and
    ``restLabel`` its category; ``outline``: :data:`MAIN_OUTLINE`. Interaction bars take their value, category
    and hover from the report's matrix values, ticks and labels."""
    rows = focus_rows(expl)
    bars = [focus_bars(expl, i) for i in rows]
    rest_label = _rest_label(expl)
    return {
        "rows": rows,
        "bars": [[j for j, _ in row] for row in bars],
        "signs": ["".join(sign(v) for _, v in row) for row in bars],
        "ticks": [_main_tick(expl, i) for i in rows],
        "titles": [_title(expl, i) for i in rows],
        "rest": encode_values([row[-1][1] for row in bars] if rest_label is not None else []),
        "restLabel": rest_label,
        "outline": MAIN_OUTLINE,
    }


def report_figure(expl: Explanation, word: int | str | None = None, *, theme: str = "light") -> go.Figure:
    """The report's lean focus chart: an empty bar trace, the layout, and the word menu (``method="skip"``, one
    button per row of :func:`focus_rows`, the shown word active); the report's script draws the bars and the
    title from the report's data (:func:`report_data`). Without any known row: an empty chart saying so."""
    expl._need_interactions()
    p = palette(theme)
    i = _focus_word(expl, word)
    fig = go.Figure(go.Bar(hovertemplate="%{hovertext}<extra></extra>"), layout=base_layout(p))
    if i is None:
        fig.update_layout(**_layout(expl, p, "No row of the interaction matrix was computed in full"))
        return fig
    fig.update_layout(**_layout(expl, p, _title(expl, i)), updatemenus=[_selector(expl, i, p, lean=True)])
    return fig
