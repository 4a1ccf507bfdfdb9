"""The combined report: one self-contained HTML page (or notebook fragment) with every view.

Contents: the prediction facts, the text heatmap (HTML), and four plotly charts (interaction matrix, top
pairs, word focus with a word selector, arcs) drawn for the light or dark theme. plotly.js is inlined from
the installed ``plotly`` package (never a CDN): once in ``<head>`` for a full document; for a fragment
(``Explanation._repr_html_``) as a ``<script type="text/plain">`` copy that the report's script executes only
when ``window.Plotly`` is not defined yet, so several fragments on one page share one plotly.js. Element
ids are unique per render. Every piece of user text is escaped (see :mod:`._escape`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ._assets import page_css, render_script, report_css
from ._escape import figure_json_for_script, html_text, json_for_script
from ._ids import element_id, new_report_id
from ._theme import THEMES
from .arcs import plot_arcs
from .evaluation import evaluation_sections
from .matrix import plot_interactions
from .text import header_html, text_html
from .top_pairs import plot_top_pairs
from .word_focus import plot_word_focus

if TYPE_CHECKING:
    from ..explanation import Explanation

__all__ = ["to_html", "SCRIPT_TAGS_PER_REPORT", "FIGURE_NAMES"]

SCRIPT_TAGS_PER_REPORT = 2
"""``<script`` elements a report emits: plotly.js (inline, or its ``text/plain`` copy) and the drawing script."""

PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["sendDataToCloud"]}


class _Section(NamedTuple):
    """One chart of the report: element-id suffix, heading, explanatory note, ``build(expl, theme) -> Figure``, and
    escaped HTML shown above the chart (e.g. an evaluation's numbers)."""

    name: str
    heading: str
    note: str
    build: Callable[["Explanation", str], go.Figure]
    html: str = ""


def _sections(top_k: int = 10, focus_word: int | str | None = None, arc_k: int | None = None,
              arc_threshold: float | None = None) -> list[_Section]:
    """The report's charts, in page order."""
    return [
        _Section("matrix", "Interaction matrix",
         "Cell (i, j) is half of the pair's total interaction (the matrix is symmetric); row i sums to word i's "
         "attribution. The diagonal holds main effects; use the button to show it.",
         lambda e, theme: plot_interactions(e, theme=theme)),
        _Section("top-pairs", "Strongest pairs",
         "The pairs of words whose interaction moves the output the most, with its sign.",
         lambda e, theme: plot_top_pairs(e, k=top_k, theme=theme)),
        _Section("word-focus", "Why a word matters",
         "A word's attribution split into its main effect and its interaction with each other word; the bars add "
         "up to the attribution. Pick a word in the menu.",
         lambda e, theme: plot_word_focus(e, focus_word, selector=True, theme=theme)),
        _Section("arcs", "Interaction arcs",
         "The strongest pairs as arcs over the sentence: thicker means stronger, blue raises and red lowers the "
         "output.",
         lambda e, theme: plot_arcs(e, k=arc_k, threshold=arc_threshold, theme=theme)),
    ]


FIGURE_NAMES = tuple(section.name for section in _sections())
"""Suffixes of the chart elements' ids, in page order (one plotly chart each)."""


def _section_html(heading: str, note: str, body: str) -> str:
    return f'<h2 class="ih-h">{html_text(heading)}</h2><p class="ih-note">{html_text(note)}</p>{body}'


def _report_body(expl: "Explanation", report_id: str, figure_sections: list[_Section]) -> str:
    parts = [
        '<p class="ih-kicker">transformers-ih explanation</p>',
        f'<h1 class="ih-title">Prediction: {html_text(expl.predicted_label)}</h1>',
        header_html(expl),
        _section_html("Attributions", "Each word coloured by its Integrated Gradients attribution; hover for the "
                      "exact value.", text_html(expl)),
        '<div class="ih-error" role="alert"></div>',
    ]
    if expl.interactions is None:
        parts.append('<p class="ih-note">No interactions were computed for this explanation.</p>')
    for section in figure_sections:
        div = f'<div class="ih-figure" id="{element_id(report_id, section.name)}"></div>'
        parts.append(_section_html(section.heading, section.note, section.html + div))
    return f'<div class="ih-report" id="{report_id}">{"".join(parts)}</div>'


def _figures_json(expl: "Explanation", report_id: str, figure_sections: list[_Section]) -> str:
    """``{element id: {"light": figure, "dark": figure}}`` as script-safe JSON (built by hand so each figure
    goes through plotly's own encoder)."""
    entries = []
    for section in figure_sections:
        themed = ",".join(
            f"{json_for_script(theme)}:{figure_json_for_script(section.build(expl, theme))}" for theme in THEMES
        )
        entries.append(f"{json_for_script(element_id(report_id, section.name))}:{{{themed}}}")
    return "{" + ",".join(entries) + "}"


def to_html(
    expl: "Explanation", full_document: bool = True, *, top_k: int = 10, focus_word: int | str | None = None,
    arc_k: int | None = None, arc_threshold: float | None = None, title: str | None = None, evaluation=None,
) -> str:
    """The report as HTML.

    ``full_document=True``: a complete page (``<!DOCTYPE html>``) with plotly.js inlined once in ``<head>``;
    opens offline. ``False``: a fragment for a notebook cell, safe to show several times on one page.
    ``top_k``: pairs in the top-pairs chart; ``focus_word``: word first shown in the word-focus chart
    (default: largest ``|attribution|``); ``arc_k`` / ``arc_threshold``: pairs drawn as arcs (see
    :func:`.arcs.select_pairs`); ``title``: the page title (full document only); ``evaluation``: results of
    :mod:`transformers_ih.evaluate` (one, or a list) shown last, in a "How faithful is it?" section.
    """
    report_id = new_report_id()
    figure_sections = [] if expl.interactions is None else _sections(top_k, focus_word, arc_k, arc_threshold)
    if evaluation is not None:
        figure_sections += [_Section(s.name, s.heading, s.note, lambda e, theme, s=s: s.build(theme), s.html)
                            for s in evaluation_sections(evaluation)]
    body = _report_body(expl, report_id, figure_sections)
    script = render_script(
        json_for_script(report_id), _figures_json(expl, report_id, figure_sections), json_for_script(PLOTLY_CONFIG)
    )
    css = report_css()
    if not full_document:
        plotly_copy = f'<script type="text/plain" id="{element_id(report_id, "plotlyjs")}">{get_plotlyjs()}</script>'
        return f"<style>{css}</style>{body}{plotly_copy}<script>{script}</script>"
    page_title = html_text(title if title is not None else f"Explanation: {expl.predicted_label}")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{page_title}</title><style>{page_css()}{css}</style>"
        f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};\n{get_plotlyjs()}</script>"
        f'</head><body class="ih-page">{body}<script>{script}</script></body></html>'
    )
