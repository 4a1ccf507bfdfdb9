"""Views of an Explanation (transformers_ih.visualize), without a browser or a model: figure structure,
exact hover values, colour ranges, escaping, ids, offline HTML."""

from __future__ import annotations

import ast
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from explanation_factory import XSS_WORDS, make_explanation
from transformers_ih import visualize
from transformers_ih.visualize import report
from transformers_ih.visualize._colors import contrast_ratio
from transformers_ih.visualize._theme import THEMES
from transformers_ih.visualize.arcs import DEFAULT_ARCS, MAX_ARCS
from transformers_ih.visualize.matrix import HIDE_DIAGONAL_LABEL, SHOW_DIAGONAL_LABEL
from transformers_ih.visualize.text import text_html, word_colors

WORDS = "the film is not the worst film , at all".split()  # repeated words on purpose
THIRTY_WORDS = (
    "the plot while not entirely original is never boring and the actors especially the lead bring real "
    "warmth to roles that could have been thin and forgettable in lesser hands"
).split()


@pytest.fixture
def expl():
    return make_explanation(WORDS, seed=7)


def _xss_explanation():
    return make_explanation(
        ["good", *XSS_WORDS, "movie"], seed=2, target=XSS_WORDS[0], predicted_label=XSS_WORDS[1],
        smoothing=XSS_WORDS[2], baseline=XSS_WORDS[3], meta={"model": XSS_WORDS[0]},
    )


def _off_diagonal_max(m: np.ndarray) -> float:
    return float(np.abs(m[~np.eye(len(m), dtype=bool)]).max())


# ---------------------------------------------------------------- the test helper itself
def test_factory_makes_consistent_explanations(expl):
    m = expl.interactions
    np.testing.assert_allclose(m, m.T)
    np.testing.assert_allclose(m.sum(axis=1), expl.attributions, atol=1e-12)
    assert [expl.text[s:e] for s, e in expl.offsets] == expl.words


# ---------------------------------------------------------------- figure types
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_plot_function_returns_a_plotly_figure(expl, theme):
    figures = [
        visualize.plot_text(expl, theme=theme),
        visualize.plot_interactions(expl, theme=theme),
        visualize.plot_top_pairs(expl, k=5, theme=theme),
        visualize.plot_word_focus(expl, "not", theme=theme),
        visualize.plot_arcs(expl, theme=theme),
    ]
    for fig in figures:
        assert isinstance(fig, go.Figure)
        assert fig.layout.paper_bgcolor == THEMES[theme].background


def test_explanation_methods_delegate_to_the_views(expl):
    assert isinstance(expl.plot_text(), go.Figure)
    assert isinstance(expl.plot_interactions(), go.Figure)
    assert isinstance(expl.plot_top_pairs(k=3), go.Figure)
    assert isinstance(expl.plot_word_focus(0), go.Figure)
    assert isinstance(expl.plot_arcs(), go.Figure)
    assert expl.to_html().startswith("<!DOCTYPE html>")


# ---------------------------------------------------------------- text heatmap
def test_plot_text_colours_every_word_and_hover_has_the_exact_value(expl):
    fig = visualize.plot_text(expl)
    word_notes = [a for a in fig.layout.annotations if a.hovertext]
    assert len(word_notes) == len(expl.words)
    for note, value in zip(word_notes, expl.attributions):
        assert repr(float(value)) in note.hovertext
        assert note.bgcolor.startswith("#")
    title = fig.layout.title.text
    assert "POSITIVE" in title and "0.9731" in title and "3.20e-06" in title


def test_text_html_keeps_the_original_text_between_words():
    words = ["Hello", ",", "world", "!"]
    e = make_explanation(words, separator=" ")
    e = type(e)(**{**e.__dict__, "text": "Hello,  world!", "offsets": [(0, 5), (5, 6), (8, 13), (13, 14)]})

    class TextOnly(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.depth, self.chunks = 0, []

        def handle_starttag(self, tag, attrs):
            if ("class", "ih-text") in attrs:
                self.depth = 1
            elif self.depth:
                self.depth += 1

        def handle_endtag(self, tag):
            if self.depth:
                self.depth -= 1

        def handle_data(self, data):
            if self.depth:
                self.chunks.append(data)

    parser = TextOnly()
    parser.feed(text_html(e))
    assert "".join(parser.chunks) == "Hello,  world!"


def test_text_html_shows_exact_attributions_on_hover(expl):
    fragment = text_html(expl)
    tips = re.findall(r'data-ih-tip="([^"]*)"', fragment)
    assert len(tips) == len(expl.words)
    for tip, value in zip(tips, expl.attributions):
        assert repr(float(value)) in html.unescape(tip)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_word_text_colours_contrast_with_their_backgrounds(theme):
    e = make_explanation(THIRTY_WORDS, seed=3)
    for background, text in word_colors(e, THEMES[theme]):
        assert contrast_ratio(background, text) >= 4.5


def test_report_header_shows_the_prediction_facts(expl):
    page = expl.to_html()
    for fact in ["POSITIVE (p = 0.9731)", "3.20e-06", "softplus(beta=20)", f"{expl.delta:+.4f}", "f(x) − f(x&#x27;)"]:
        assert fact in page


# ---------------------------------------------------------------- interaction matrix
def test_matrix_hover_shows_both_words_and_exact_values(expl):
    heatmap = visualize.plot_interactions(expl).data[0]
    m = expl.interactions
    for i in range(len(WORDS)):
        for j in range(len(WORDS)):
            text = heatmap.text[i][j]
            assert repr(float(m[i, j])) in text
            assert f"{WORDS[i]} [{i}]" in text and f"{WORDS[j]} [{j}]" in text


def test_matrix_colour_scale_is_centred_at_zero_and_symmetric(expl):
    heatmap = visualize.plot_interactions(expl).data[0]
    assert heatmap.zmid == 0
    assert heatmap.zmin == -heatmap.zmax
    assert heatmap.zmax == pytest.approx(_off_diagonal_max(expl.interactions))


def test_matrix_hides_the_diagonal_by_default(expl):
    hidden = visualize.plot_interactions(expl).data[0]
    assert all(hidden.z[i][i] is None for i in range(len(WORDS)))
    assert hidden.hoverongaps is False
    shown = visualize.plot_interactions(expl, show_diagonal=True).data[0]
    np.testing.assert_array_equal(np.diag(np.array(shown.z, dtype=float)), expl.main_effects)
    assert shown.zmax == pytest.approx(np.abs(expl.interactions).max())


def test_matrix_has_a_diagonal_toggle(expl):
    menu = visualize.plot_interactions(expl).layout.updatemenus[0]
    assert menu.active == 0
    by_label = {b.label: b for b in menu.buttons}
    assert set(by_label) == {HIDE_DIAGONAL_LABEL, SHOW_DIAGONAL_LABEL}
    show = by_label[SHOW_DIAGONAL_LABEL].args[0]
    assert by_label[SHOW_DIAGONAL_LABEL].method == "restyle"
    np.testing.assert_array_equal(np.diag(np.array(show["z"][0], dtype=float)), expl.main_effects)
    assert show["zmin"][0] == -show["zmax"][0]
    hide = by_label[HIDE_DIAGONAL_LABEL].args[0]
    assert all(hide["z"][0][i][i] is None for i in range(len(WORDS)))


def test_matrix_axes_keep_repeated_words_distinct(expl):
    heatmap = visualize.plot_interactions(expl).data[0]
    assert len(set(heatmap.x)) == len(WORDS) and list(heatmap.x) == list(heatmap.y)
    fig = visualize.plot_interactions(expl)
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.autorange == "reversed"


def test_matrix_marks_the_join_of_a_text_pair():
    e = make_explanation(["a", "b", "c", "d"], word_groups=[0, 0, 1, 1])
    shapes = visualize.plot_interactions(e).layout.shapes
    assert [s.x0 for s in shapes if s.xref == "x"] == [1.5]


# ---------------------------------------------------------------- top pairs
def test_top_pairs_are_signed_ordered_and_labelled(expl):
    fig = visualize.plot_top_pairs(expl, k=6)
    bars = fig.data[0]
    expected = expl.top_interaction_indices(6)
    assert list(bars.x) == [v for _, _, v in expected]
    assert all(abs(a) >= abs(b) for a, b in zip(bars.x, bars.x[1:]))
    assert {np.sign(v) for v in bars.x} == {-1.0, 1.0}
    for label, (i, j, _) in zip(bars.y, expected):
        assert WORDS[i] in label and WORDS[j] in label and " × " in label
    assert len(set(bars.y)) == len(bars.y)
    assert fig.layout.yaxis.autorange == "reversed"  # strongest on top
    for hover, (_, _, v) in zip(bars.hovertext, expected):
        assert repr(v) in hover and repr(2 * v) in hover


def test_top_pairs_with_one_word_is_an_empty_chart():
    fig = visualize.plot_top_pairs(make_explanation(["alone"]))
    assert len(fig.data[0].x) == 0 and fig.layout.annotations


# ---------------------------------------------------------------- word focus
def test_word_focus_bars_add_up_to_the_attribution(expl):
    for i in range(len(WORDS)):
        bars = visualize.plot_word_focus(expl, i).data[0]
        assert len(bars.y) == len(WORDS)
        assert sum(bars.y) == pytest.approx(expl.attributions[i], abs=1e-12)
        assert bars.y[i] == expl.main_effects[i]
        assert "main effect" in bars.x[i]
        assert repr(float(expl.interactions[i, (i + 1) % len(WORDS)])) in bars.hovertext[(i + 1) % len(WORDS)]


def test_word_focus_resolves_strings_to_the_first_occurrence(expl):
    assert "main effect: film [1]" in visualize.plot_word_focus(expl, "film").data[0].x
    assert "main effect: worst [5]" in visualize.plot_word_focus(expl, "WORST").data[0].x


def test_word_focus_rejects_unknown_words_clearly(expl):
    with pytest.raises(ValueError, match="'popcorn' is not in this explanation"):
        visualize.plot_word_focus(expl, "popcorn")
    with pytest.raises(IndexError, match="out of range"):
        visualize.plot_word_focus(expl, len(WORDS))


def test_word_focus_selector_switches_to_every_word(expl):
    menu = visualize.plot_word_focus(expl, selector=True).layout.updatemenus[0]
    assert len(menu.buttons) == len(WORDS)
    assert menu.active == int(np.argmax(np.abs(expl.attributions)))
    for i, button in enumerate(menu.buttons):
        assert sum(button.args[0]["y"][0]) == pytest.approx(expl.attributions[i], abs=1e-12)


# ---------------------------------------------------------------- arcs
def _arc_traces(fig):
    return [t for t in fig.data if t.mode == "lines"]


def test_arcs_for_thirty_words_draw_only_the_strongest_pairs():
    e = make_explanation(THIRTY_WORDS, seed=4)
    assert len(e.words) == 30
    assert len(_arc_traces(visualize.plot_arcs(e))) == DEFAULT_ARCS
    assert len(_arc_traces(visualize.plot_arcs(e, threshold=0.0))) == MAX_ARCS
    assert len(_arc_traces(visualize.plot_arcs(e, k=3))) == 3


def test_arcs_width_follows_strength_and_colour_the_sign(expl):
    fig = visualize.plot_arcs(expl, k=4)
    arcs = _arc_traces(fig)
    widths = [t.line.width for t in arcs]
    assert widths == sorted(widths)  # weakest drawn first, strongest last (on top)
    strongest = expl.top_interaction_indices(1)[0]
    assert repr(strongest[2]) in arcs[-1].hovertext[0]
    palette = THEMES["light"]
    assert arcs[-1].line.color == (palette.positive if strongest[2] > 0 else palette.negative)


# ---------------------------------------------------------------- escaping
class _TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_report_escapes_every_piece_of_user_text():
    page = _xss_explanation().to_html()
    for payload in ["<script>window.__xss", "<img src=x", 'onmouseover="window', "onfocus='window", "<b>bold"]:
        assert payload not in page
    assert page.lower().count("<script") == report.SCRIPT_TAGS_PER_REPORT + get_plotlyjs().lower().count("<script")
    collector = _TagCollector()
    collector.feed(page)
    assert not [t for t, _ in collector.tags if t in {"img", "b", "iframe"}]
    event_attributes = [name for _, attrs in collector.tags for name, _ in attrs if name.startswith("on")]
    assert event_attributes == []


def test_plotly_strings_are_escaped():
    e = _xss_explanation()
    figures = [visualize.plot_text(e), visualize.plot_interactions(e), visualize.plot_top_pairs(e),
               visualize.plot_word_focus(e, 1, selector=True), visualize.plot_arcs(e, k=20)]
    for fig in figures:
        payload = fig.to_json()
        assert "<script" not in payload and "<img" not in payload and "<b>bold" not in payload
        assert "&lt;script&gt;" in payload or "&lt;img" in payload
        assert "&quot;" not in payload  # plotly.js does not decode it; quotes are numeric entities
        templates = {t.hovertemplate for t in fig.data if t.hovertemplate is not None}
        assert templates <= {"%{text}<extra></extra>", "%{hovertext}<extra></extra>"}  # no user text in templates


# ---------------------------------------------------------------- ids, offline, fragments
def _ids(page: str) -> list[str]:
    """The element ids of a report (the inlined plotly.js source is left out)."""
    return re.findall(r'\bid="([^"]+)"', page.replace(get_plotlyjs(), ""))


def test_element_ids_are_unique_within_and_across_renders(expl):
    first, second = _ids(expl._repr_html_()), _ids(expl._repr_html_())
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert not set(first) & set(second)
    assert len(first) == 1 + len(report.FIGURE_NAMES) + 1  # report root, one div per chart, plotly.js copy


def test_saved_report_is_self_contained(expl, tmp_path):
    path = expl.save_html(tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", page, flags=re.I)
    assert "cdn.plot.ly" not in page.split("</script>", 1)[1]  # nowhere after the inlined library
    assert page.count(get_plotlyjs()) == 1
    assert len(re.findall(r'class="ih-figure"', page)) == len(report.FIGURE_NAMES)


def test_notebook_fragment_carries_plotly_once_without_executing_it_twice(expl):
    fragment = expl._repr_html_()
    assert "<html" not in fragment and "<!DOCTYPE" not in fragment
    assert fragment.count(get_plotlyjs()) == 1
    assert '<script type="text/plain"' in fragment and "if (window.Plotly) { return; }" in fragment
    assert fragment.lower().count("<script") == report.SCRIPT_TAGS_PER_REPORT


def test_report_without_interactions_shows_only_the_text():
    e = make_explanation(WORDS, with_interactions=False)
    page = e.to_html()
    assert 'class="ih-figure"' not in page and "No interactions were computed" in page
    with pytest.raises(ValueError, match="no interactions"):
        visualize.plot_interactions(e)


def test_report_of_a_single_word_renders():
    assert "ih-figure" in make_explanation(["fine"]).to_html(full_document=False)


# ---------------------------------------------------------------- layering
def test_visual_layer_never_imports_torch_or_transformers():
    for module in Path(visualize.__file__).parent.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in {"torch", "transformers"}], module.name
