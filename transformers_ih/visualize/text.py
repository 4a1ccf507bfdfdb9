"""Text heatmap: the original text with each word's background coloured by its attribution.

Two renderings of the same view: :func:`text_html` (HTML spans, used by the report; coloured through CSS
variables so it follows the light / dark theme) and :func:`plot_text` (a plotly figure). Features of any level
(words, tokens, sentences, spans) are coloured by their own span of the text; a long feature (a sentence) wraps
over as many lines as it needs in both, and its hover tip shows at most :data:`TIP_CHARS` of its text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from ._colors import readable_text_color
from .escape import html_text, plotly_text
from .format import header_items, max_abs, short, truncate, value_text, wrap_lines
from .theme import MONOSPACE, THEMES, Palette, base_layout, palette, value_color

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = ["Segment", "text_segments", "word_colors", "header_html", "text_html", "plot_text", "TIP_CHARS"]

TIP_CHARS = 60
"""A hover tip quotes at most this many characters of its feature (a sentence would not fit on screen)."""


@dataclass(frozen=True)
class Segment:
    """A piece of ``expl.text``: a word (``word`` = its index) or the text between words (``word`` = None)."""

    text: str
    word: int | None
    separator: bool = False


def text_segments(expl: Explanation) -> list[Segment]:
    """``expl.text`` cut into words (by ``offsets``) and the gaps between them, in order; concatenating the
    segments' text gives back ``expl.text`` when the offsets are ordered and non-overlapping. A gap where
    ``word_groups`` changes (the join of a text pair) is marked ``separator=True``."""
    segments: list[Segment] = []
    cursor = 0
    groups = expl.word_groups
    for i, (start, end) in enumerate(expl.offsets):
        start = max(start, cursor)
        end = max(end, start)
        if start > cursor:
            is_separator = groups is not None and bool(groups) and i > 0 and groups[i] != groups[i - 1]
            segments.append(Segment(expl.text[cursor:start], None, is_separator))
        segments.append(Segment(expl.text[start:end] or expl.words[i], i))
        cursor = end
    if cursor < len(expl.text):
        segments.append(Segment(expl.text[cursor:], None))
    return segments


def word_colors(expl: Explanation, p: Palette) -> list[tuple[str, str]]:
    """``(background, text colour)`` per word: attribution on ``p``'s diverging scale over
    ``[-max|attr|, max|attr|]``, and black or white text, whichever contrasts more."""
    vmax = max_abs(expl.attributions)
    backgrounds = [value_color(a, vmax, p) for a in expl.attributions]
    return [(bg, readable_text_color(bg)) for bg in backgrounds]


def _word_tip(expl: Explanation, i: int) -> str:
    return f"{truncate(expl.words[i], TIP_CHARS)} [{i}]: attribution {value_text(expl.attributions[i])}"


def header_html(expl: Explanation) -> str:
    """The facts above the views (:func:`.format.header_items`) as an escaped ``<dl>``."""
    rows = "".join(
        f'<div class="ih-fact"><dt>{html_text(name)}</dt><dd>{html_text(value)}</dd></div>'
        for name, value in header_items(expl)
    )
    return f'<dl class="ih-facts">{rows}</dl>'


def _legend_html(expl: Explanation) -> str:
    vmax = max_abs(expl.attributions)
    target = html_text(expl.target)
    return (
        '<div class="ih-legend" aria-hidden="true">'
        f'<span>{html_text(short(-vmax))}</span><span class="ih-legend-bar"></span>'
        f"<span>{html_text(short(vmax))}</span>"
        f'<span class="ih-legend-note">red lowers, blue raises the {target} {html_text(expl.output)}</span>'
        "</div>"
    )


def text_html(expl: Explanation) -> str:
    """The text heatmap as an HTML fragment (escaped). Each word is a ``span.ih-w`` whose CSS variables
    ``--ih-bg-light/--ih-fg-light/--ih-bg-dark/--ih-fg-dark`` hold its colours in both themes, and whose
    ``data-ih-tip`` (shown on hover by the report's CSS) and ``aria-label`` hold the exact attribution."""
    colors = {name: word_colors(expl, p) for name, p in THEMES.items()}
    parts = []
    for seg in text_segments(expl):
        if seg.word is None:
            cls = ' class="ih-sep"' if seg.separator else ""
            parts.append(f"<span{cls}>{html_text(seg.text)}</span>" if cls else html_text(seg.text))
            continue
        i = seg.word
        style = ";".join(f"--ih-bg-{name}:{colors[name][i][0]};--ih-fg-{name}:{colors[name][i][1]}" for name in THEMES)
        tip = html_text(_word_tip(expl, i))
        parts.append(
            f'<span class="ih-w" style="{style}" data-ih-word="{i}" data-ih-tip="{tip}" aria-label="{tip}" '
            f'tabindex="0">{html_text(seg.text)}</span>'
        )
    return f'<div class="ih-text">{"".join(parts)}</div>{_legend_html(expl)}'


# ---------------------------------------------------------------- plotly version
_CHAR_PX = 8.43  # width of one character of the 14 px monospace font
_LINE_PX = 30


def _wrap(segments: list[Segment], line_width: int) -> list[tuple[Segment, int, int]]:
    """Place segments on lines of at most ``line_width`` characters: ``(segment, line, column)``; a gap
    containing a newline, or a word that would overflow, starts a new line (gaps at a line start are dropped).
    A word longer than a line (a sentence feature) is cut into pieces at spaces (or anywhere, for one long
    run) and at its own newlines; each piece keeps the word's index, so it gets the word's colour and tip."""
    placed: list[tuple[Segment, int, int]] = []
    line, col = 0, 0
    for seg in segments:
        text = seg.text
        if seg.word is None:
            if "\n" in text:
                line, col = line + 1, 0
                text = text.rsplit("\n", 1)[1]
            if col == 0:
                text = text.lstrip()
            if text:
                placed.append((Segment(text, None, seg.separator), line, col))
                col += len(text)
            continue
        pieces = [piece for part in text.split("\n") for piece in wrap_lines(part, line_width)]
        for k, piece in enumerate(pieces):
            if k > 0 or (col > 0 and col + len(piece) > line_width):
                line, col = line + 1, 0
            if piece:
                placed.append((Segment(piece, seg.word, seg.separator), line, col))
            col += len(piece)
    return placed


def plot_text(expl: Explanation, *, theme: str = "light", line_width: int = 80, **layout: Any) -> go.Figure:
    """Plotly figure of the text heatmap: the text in a monospace font wrapped at ``line_width`` characters,
    each word an annotation whose background is its attribution (diverging scale centred at 0) and whose
    hover text is the exact value. The title holds the prediction facts. Extra keyword arguments update the
    layout."""
    p = palette(theme)
    colors = word_colors(expl, p)
    placed = _wrap(text_segments(expl), line_width)
    annotations = []
    for seg, line, col in placed:
        if not seg.text.strip():
            continue
        common = dict(
            x=col + len(seg.text) / 2,
            y=-line,
            xref="x",
            yref="y",
            showarrow=False,
            text=plotly_text(seg.text).replace(" ", "&nbsp;"),
            font=dict(family=MONOSPACE, size=14),
        )
        if seg.word is None:
            annotations.append(dict(common, font=dict(family=MONOSPACE, size=14, color=p.muted)))
        else:
            bg, fg = colors[seg.word]
            annotations.append(
                dict(
                    common,
                    bgcolor=bg,
                    borderpad=2,
                    font=dict(family=MONOSPACE, size=14, color=fg),
                    hovertext=plotly_text(_word_tip(expl, seg.word)),
                )
            )
    n_lines = 1 + max((line for _, line, _ in placed), default=0)
    facts = [f"{plotly_text(k)}: {plotly_text(v)}" for k, v in header_items(expl)[:5]]
    subtitle = "<br>".join(f"<sup>{' · '.join(facts[n : n + 2])}</sup>" for n in range(0, len(facts), 2))
    fig = go.Figure(layout=base_layout(p))
    fig.update_layout(
        title=dict(text=f"Attributions<br>{subtitle}"),
        annotations=annotations,
        xaxis=dict(range=[-0.5, line_width + 0.5], visible=False, fixedrange=True),
        yaxis=dict(range=[-n_lines + 0.5, 0.5], visible=False, fixedrange=True),
        width=int(line_width * _CHAR_PX + 40),
        height=int(n_lines * _LINE_PX + 155),
        margin=dict(l=20, r=20, t=135, b=20),
    )
    fig.update_layout(**layout)
    return fig
