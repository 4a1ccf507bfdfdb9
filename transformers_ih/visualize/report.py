"""The combined report: one self-contained HTML page (or notebook fragment) with every view.

Contents: the prediction facts, the text heatmap (HTML), and four plotly charts (interaction matrix, top
pairs, word focus with a word selector, arcs) drawn for the light or dark theme.

One renderer: every number, label and hover wording is written in Python. The numbers travel once, as the texts
the views show (:func:`._payload.report_data`: short and exact text of each value, packed; a partial matrix's
computed cells only), with the hover templates and the focus bars chosen in Python, and each figure once for both
themes (:func:`._payload.merge_themes`). The browser code (``report.js``, inlined) only lays them out: it fills
the templates into the matrix's cells, the focus bars and the arcs' markers and reads the numbers back from
their exact texts. So a report grows with the known cells, about 19 bytes each with the pairs' totals, not as
W² hover strings per theme (100 words: about 0.3 MB besides plotly.js).

plotly.js is inlined from the installed ``plotly`` package (never a CDN): once in ``<head>`` for a full document;
for a fragment (``Explanation._repr_html_``) as a ``<script type="text/plain">`` copy that the report's script
executes only when ``window.Plotly`` is not defined yet, so several fragments on one page share one plotly.js.
Element ids are unique per render. Every piece of user text is escaped (see :mod:`.escape`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import plotly.graph_objects as go

from . import arcs, matrix, word_focus
from ._assets import report_page
from ._ids import element_id, new_report_id
from ._payload import payload_json, report_data, themed_figure
from .escape import html_text
from .evaluation import evaluation_sections
from .format import feature_noun, is_partial
from .removal import removal_html
from .text import header_html, text_html
from .top_pairs import plot_top_pairs

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = ["to_html", "SCRIPT_TAGS_PER_REPORT", "FIGURE_NAMES"]

SCRIPT_TAGS_PER_REPORT = 2
"""``<script`` elements a report emits: plotly.js (inline, or its ``text/plain`` copy) and the drawing script."""


class _Section(NamedTuple):
    """One chart of the report: element-id suffix, heading, explanatory note, ``build(expl, theme) -> Figure``,
    escaped HTML shown above the chart (e.g. an evaluation's numbers), and the script's view that fills in the
    figure's data in the browser (``None``: drawn as built)."""

    name: str
    heading: str
    note: str
    build: Callable[[Explanation, str], go.Figure]
    html: str = ""
    view: str | None = None


def _bind_expl(build: Callable[[Explanation, str], go.Figure], expl: Explanation) -> Callable[[str], go.Figure]:
    """``build(expl, theme)`` as ``f(theme)``."""
    return lambda theme: build(expl, theme)


def _drop_expl(build: Callable[[str], go.Figure]) -> Callable[[Explanation, str], go.Figure]:
    """``build(theme)`` as ``f(expl, theme)`` (an evaluation chart does not depend on the explanation)."""
    return lambda expl, theme: build(theme)


def _matrix_note(expl: Explanation | None) -> str:
    noun = "word" if expl is None else feature_noun(expl)
    note = (
        f"Cell (i, j) is half of the pair's total interaction (the matrix is symmetric); row i sums to {noun} i's "
        "attribution. The diagonal holds main effects; use the button to show it. “Strongest first” "
        "lists the most interacting features first; drag to zoom into a block, double-click to zoom out."
    )
    if expl is not None and is_partial(expl):
        note += (
            " Grey cells were not computed (a partial matrix: only the exact rows and their columns are "
            "known); they are never counted as 0."
        )
    return note


def _sections(
    top_k: int = 10,
    focus_word: int | str | None = None,
    arc_k: int | None = None,
    arc_threshold: float | None = None,
    expl: Explanation | None = None,
) -> list[_Section]:
    """The report's charts, in page order (``expl``: to word the notes for its features)."""
    noun = "word" if expl is None else feature_noun(expl)
    nouns = "words" if expl is None else feature_noun(expl, plural=True)
    return [
        _Section(
            "matrix",
            "Interaction matrix",
            _matrix_note(expl),
            lambda e, theme: matrix.report_figure(e, theme=theme),
            view="matrix",
        ),
        _Section(
            "top-pairs",
            "Strongest pairs",
            f"The pairs of {nouns} whose interaction moves the output the most, with its sign.",
            lambda e, theme: plot_top_pairs(e, k=top_k, theme=theme),
            html=removal_html(expl),
        ),
        _Section(
            "word-focus",
            f"Why a {noun} matters",
            f"A {noun}'s attribution split into its main effect and its interaction with each other {noun}; the "
            f"bars add up to the attribution (beyond {word_focus.FOCUS_BARS} {nouns}, the weakest share one bar). "
            f"Pick a {noun} in the menu.",
            lambda e, theme: word_focus.report_figure(e, focus_word, theme=theme),
            view="word-focus",
        ),
        _Section(
            "arcs",
            "Interaction arcs",
            "The strongest pairs as arcs over the text: thicker means stronger, blue raises and red lowers the output.",
            lambda e, theme: arcs.report_figure(e, k=arc_k, threshold=arc_threshold, theme=theme),
            view="arcs",
        ),
    ]


FIGURE_NAMES = tuple(section.name for section in _sections())
"""Suffixes of the chart elements' ids, in page order (one plotly chart each)."""


def _section_html(heading: str, note: str, body: str) -> str:
    return f'<h2 class="ih-h">{html_text(heading)}</h2><p class="ih-note">{html_text(note)}</p>{body}'


def _report_body(expl: Explanation, report_id: str, figure_sections: list[_Section]) -> str:
    parts = [
        '<p class="ih-kicker">transformers-ih explanation</p>',
        f'<h1 class="ih-title">Prediction: {html_text(expl.predicted_label)}</h1>',
        header_html(expl),
        _section_html(
            "Attributions",
            f"Each {feature_noun(expl)} coloured by its Integrated Gradients attribution; hover for the exact value."
            if expl.estimator == "integrated-hessians"
            else f"Each {feature_noun(expl)} coloured by its {expl.estimator} value (its first-order value plus half "
            "of each of its pair values); hover for the exact value.",
            text_html(expl),
        ),
        '<div class="ih-error" role="alert"></div>',
    ]
    if expl.interactions is None:
        parts.append('<p class="ih-note">No interactions were computed for this explanation.</p>')
    for section in figure_sections:
        div = f'<div class="ih-figure" id="{element_id(report_id, section.name)}"></div>'
        parts.append(_section_html(section.heading, section.note, section.html + div))
    return f'<div class="ih-report" id="{report_id}">{"".join(parts)}</div>'


def _figures(expl: Explanation, report_id: str, figure_sections: list[_Section]) -> dict:
    """``{element id: {"figure": both themes merged, "view": the script's view or None}}`` (each figure through
    plotly's own encoder, then :func:`._payload.merge_themes`)."""
    return {
        element_id(report_id, section.name): {
            "figure": themed_figure(_bind_expl(section.build, expl)),
            "view": section.view,
        }
        for section in figure_sections
    }


def to_html(
    expl: Explanation,
    full_document: bool = True,
    *,
    top_k: int = 10,
    focus_word: int | str | None = None,
    arc_k: int | None = None,
    arc_threshold: float | None = None,
    title: str | None = None,
    evaluation=None,
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
    figure_sections = [] if expl.interactions is None else _sections(top_k, focus_word, arc_k, arc_threshold, expl)
    if evaluation is not None:
        figure_sections += [
            _Section(s.name, s.heading, s.note, _drop_expl(s.build), s.html) for s in evaluation_sections(evaluation)
        ]
    body = _report_body(expl, report_id, figure_sections)
    return report_page(
        report_id,
        body,
        payload_json(_figures(expl, report_id, figure_sections)),
        data_json=payload_json(report_data(expl) if figure_sections else None),
        full_document=full_document,
        title=title if title is not None else f"Explanation: {expl.predicted_label}",
    )
