"""Word focus: one word's attribution split into its main effect and its interaction with every other word.

Row ``i`` of the interaction matrix sums to ``attributions[i]``, so the bars of this view (``interactions[i, j]``
for every ``j``, the ``j = i`` bar being the main effect) add up exactly to the word's attribution."""

from __future__ import annotations

from numbers import Integral
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from ._escape import plotly_text
from ._format import TICK_CHARS, short, value_text, word_label, word_text
from ._theme import Palette, base_layout, control_style, palette, sign_color

if TYPE_CHECKING:
    from ..explanation import Explanation

__all__ = ["resolve_word", "focus_components", "plot_word_focus"]


def resolve_word(expl: "Explanation", word: int | str) -> int:
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


def focus_components(expl: "Explanation", i: int) -> list[float]:
    """Row ``i`` of the interaction matrix as floats: ``[m[i, 0], ..., m[i, W-1]]`` (``m[i, i]`` = main
    effect). They sum to ``attributions[i]`` up to the engine's numerical error."""
    expl._need_interactions()
    return [float(v) for v in expl.interactions[i]]


def _bars(expl: "Explanation", i: int, theme_palette: Palette) -> dict[str, Any]:
    """The bar trace's data for focus word ``i``: categories, values, colours, outline, hover text."""
    values = focus_components(expl, i)
    focus = word_label(expl, i)
    labels, hover = [], []
    for j, v in enumerate(values):
        if j == i:
            labels.append(f"main effect: {word_label(expl, i, TICK_CHARS)}")
            hover.append(f"<b>main effect of {focus}</b><br>{value_text(v)}")
        else:
            labels.append(word_label(expl, j, TICK_CHARS))
            hover.append(f"<b>{focus} × {word_label(expl, j)}</b><br>interaction[{i}, {j}]: {value_text(v)}")
    outline = [3 if j == i else 0 for j in range(len(values))]
    return dict(
        x=labels, y=values, hovertext=hover,
        marker=dict(
            color=[sign_color(v, theme_palette) for v in values],
            line=dict(width=outline, color=theme_palette.foreground),
        ),
    )


def _title(expl: "Explanation", i: int) -> str:
    main = float(expl.interactions[i, i])
    rest = float(expl.interactions[i].sum()) - main
    return (
        f"“{word_text(expl, i, 2 * TICK_CHARS)}” [{i}]: attribution {short(expl.attributions[i])}"
        f"<br><sup>= main effect {short(main)} + interactions with other words {short(rest)}"
        f" ({plotly_text(expl.output)} units)</sup>"
    )


def _selector(expl: "Explanation", selected: int, p: Palette) -> dict[str, Any]:
    """A dropdown (``updatemenus``) that re-targets the figure at any word."""
    buttons = []
    for i in range(len(expl.words)):
        bars = _bars(expl, i, p)
        trace_update = {
            "x": [bars["x"]], "y": [bars["y"]], "hovertext": [bars["hovertext"]],
            "marker.color": [bars["marker"]["color"]], "marker.line.width": [bars["marker"]["line"]["width"]],
        }
        buttons.append(dict(label=word_label(expl, i, TICK_CHARS), method="update",
                            args=[trace_update, {"title.text": _title(expl, i)}]))
    return dict(
        type="dropdown", buttons=buttons, active=selected, x=1.0, xanchor="right", y=1.0, yanchor="bottom",
        pad=dict(b=8), **control_style(p),
    )


def plot_word_focus(
    expl: "Explanation", word: int | str | None = None, *, selector: bool = False, theme: str = "light",
    **layout: Any,
) -> go.Figure:
    """Bar chart of word ``word``'s attribution split into its main effect (outlined bar) and its
    interaction ``interactions[i, j]`` with every other word ``j`` (one bar each, text order, output units).
    The bars sum to ``attributions[i]``; the title states the split.

    ``word``: position or string (first occurrence, see :func:`resolve_word`); ``None`` picks the word with
    the largest ``|attribution|``. ``selector=True`` adds a dropdown to switch to any other word. Extra
    keyword arguments update the layout."""
    expl._need_interactions()
    p = palette(theme)
    if word is None:
        i = int(max(range(len(expl.words)), key=lambda j: abs(expl.attributions[j])))
    else:
        i = resolve_word(expl, word)
    bars = go.Bar(**_bars(expl, i, p), hovertemplate="%{hovertext}<extra></extra>")
    fig = go.Figure(bars, layout=base_layout(p))
    fig.update_layout(
        title=dict(text=_title(expl, i)),
        xaxis=dict(type="category", tickangle=-45),
        yaxis=dict(title=dict(text=f"contribution ({expl.output})"), zeroline=True, zerolinewidth=1.5),
        height=460,
        margin=dict(t=110),
        updatemenus=[_selector(expl, i, p)] if selector else [],
    )
    fig.update_layout(**layout)
    return fig
