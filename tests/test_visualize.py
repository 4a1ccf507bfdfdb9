"""Views of an Explanation (transformers_ih.visualize), without a browser or a model: figure structure,
exact hover values, colour ranges, escaping, ids, offline HTML."""

from __future__ import annotations

import ast
import html
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from explanation_factory import (
    XSS_WORDS,
    make_explanation,
    make_long_explanation,
    make_partial,
    make_sentence_explanation,
    partial_rows,
)
from plotly.offline import get_plotlyjs

from transformers_ih import visualize
from transformers_ih.visualize import report
from transformers_ih.visualize._assets import report_js
from transformers_ih.visualize._colors import contrast_ratio
from transformers_ih.visualize._hover import TEMPLATES
from transformers_ih.visualize._numbers import (
    decode_matrix,
    decode_texts,
    decode_values,
    encode_matrix,
    encode_texts,
    encode_values,
    total_pairs,
    value_texts,
)
from transformers_ih.visualize._payload import THEME_KEY, merge_themes, payload_json, resolve_theme
from transformers_ih.visualize.arcs import DEFAULT_ARCS, LABEL_ALL, MAX_ARCS, select_pairs
from transformers_ih.visualize.format import VALUE_TEXT, exact, known_cells, short, value_text
from transformers_ih.visualize.matrix import (
    DENSE,
    HIDE_DIAGONAL_LABEL,
    MAX_PLOT_PX,
    NOT_COMPUTED,
    SHOW_DIAGONAL_LABEL,
    feature_order,
)
from transformers_ih.visualize.text import TIP_CHARS, _wrap, text_html, text_segments, word_colors
from transformers_ih.visualize.theme import THEMES
from transformers_ih.visualize.word_focus import FOCUS_BARS, focus_bars, focus_rows

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
        ["good", *XSS_WORDS, "movie"],
        seed=2,
        target=XSS_WORDS[0],
        predicted_label=XSS_WORDS[1],
        smoothing=XSS_WORDS[2],
        baseline=XSS_WORDS[3],
        meta={"model": XSS_WORDS[0]},
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
    assert repr(strongest[2]) in arcs[-1].hovertext  # one hover string for the whole arc
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
    figures = [
        visualize.plot_text(e),
        visualize.plot_interactions(e),
        visualize.plot_top_pairs(e),
        visualize.plot_word_focus(e, 1, selector=True),
        visualize.plot_arcs(e, k=20),
    ]
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


# ---------------------------------------------------------------- long inputs: size of the report
PLOTLY_JS_BYTES = len(get_plotlyjs().encode("utf-8"))


def _bytes_besides_plotly(page: str) -> int:
    assert page.count(get_plotlyjs()) == 1
    return len(page.encode("utf-8")) - PLOTLY_JS_BYTES


def report_payload(page: str) -> tuple[dict, dict | None]:
    """The figures and the data of a report page's drawing script, parsed back from JSON."""
    script = page.replace(get_plotlyjs(), "")
    figures = re.search(r"^  var figures = (.*);$", script, flags=re.M)
    data = re.search(r"^  var data = (.*);$", script, flags=re.M)
    assert figures and data, "the report's script does not hold its figures and data on one line each"
    return json.loads(figures.group(1)), json.loads(data.group(1))


def test_long_reports_stay_small():
    """Issue 16 targets: a full 100-word matrix under 2 MB besides plotly.js (9.06 MB before: a hover string
    per cell, per theme); a 400-word partial matrix (16 exact rows) and a 40-sentence explanation under 1 MB."""
    sizes = {
        "full 100 words": (_bytes_besides_plotly(make_long_explanation(100).to_html()), 2_000_000),
        "400 words, rows=16": (_bytes_besides_plotly(make_long_explanation(400, rows=16).to_html()), 1_000_000),
        "400 words, rows=16, NaN only": (
            _bytes_besides_plotly(make_long_explanation(400, rows=16, mask=False).to_html()),
            1_000_000,
        ),
        "40 sentences (400 words)": (_bytes_besides_plotly(make_sentence_explanation(40).to_html()), 1_000_000),
    }
    assert all(size < limit for size, limit in sizes.values()), sizes
    # much smaller still: the known cells as float64 in base64 are most of it
    assert sizes["full 100 words"][0] < 400_000 and sizes["400 words, rows=16"][0] < 500_000, sizes


def test_report_holds_each_number_once_and_no_hover_string_per_cell():
    e = make_long_explanation(100, seed=3)
    page = e.to_html()
    figures, data = report_payload(page)
    np.testing.assert_array_equal(decode_matrix(data["matrix"]), e.interactions)  # exact
    np.testing.assert_array_equal(decode_values(data["attributions"]), e.attributions)
    assert page.count(data["matrix"]["values"]) == 1
    assert data["matrix"]["symmetric"]  # the upper triangle only
    # hover strings: per word in the text view (its tip and aria-label), top pairs and arcs; the matrix's, the
    # focus bars' and the arc markers' are laid out in the browser from Python's texts and templates
    assert page.count("(exact ") < 2 * len(e.words) + 60
    assert page.count("pair total") < 15
    matrix = next(v for k, v in figures.items() if k.endswith("-matrix"))
    assert matrix["view"] == "matrix" and "z" not in matrix["figure"]["data"][0]


@pytest.mark.parametrize(
    "build",
    [
        lambda e, theme: report._sections(expl=e)[0].build(e, theme),
        lambda e, theme: visualize.plot_top_pairs(e, theme=theme),
        lambda e, theme: report._sections(expl=e)[2].build(e, theme),
        lambda e, theme: report._sections(expl=e)[3].build(e, theme),
        lambda e, theme: visualize.plot_text(e, theme=theme),
    ],
)
def test_figures_are_sent_once_for_both_themes(build):
    e = make_long_explanation(80, rows=6, seed=2)
    per_theme = {theme: json.loads(build(e, theme).to_json()) for theme in THEMES}
    merged = merge_themes(per_theme)
    for theme, figure in per_theme.items():
        assert resolve_theme(merged, theme) == figure

    def themed_nodes(node):
        if isinstance(node, list):
            return [found for item in node for found in themed_nodes(item)]
        if isinstance(node, dict):
            if THEME_KEY in node:
                return [node[THEME_KEY]]
            return [found for value in node.values() for found in themed_nodes(value)]
        return []

    def leaves(node):
        if isinstance(node, (list, tuple)):
            return [leaf for item in node for leaf in leaves(item)]
        return [node]

    nodes = themed_nodes(merged)
    assert nodes  # the colours differ ...
    for node in nodes:  # ... and only they: every value held per theme is (or names) a colour, or a scale position
        assert node["light"] != node["dark"]
        for leaf in leaves([node["light"], node["dark"]]):
            assert isinstance(leaf, (int, float)) or re.search(r"#[0-9a-f]{6}", leaf), leaf


def test_merge_themes_keeps_equal_parts_once():
    merged = merge_themes(
        {
            "light": {"a": [1, 2], "b": {"c": "#fff", "d": 3}, "e": ["#1", "#2"]},
            "dark": {"a": [1, 2], "b": {"c": "#000", "d": 3}, "e": ["#3", "#4"]},
        }
    )
    assert merged == {
        "a": [1, 2],
        "b": {"c": {THEME_KEY: {"light": "#fff", "dark": "#000"}}, "d": 3},
        "e": {THEME_KEY: {"light": ["#1", "#2"], "dark": ["#3", "#4"]}},
    }


@pytest.mark.parametrize("kind", ["symmetric", "asymmetric", "partial", "partial-asymmetric-mask"])
def test_matrix_encoding_round_trips_exactly(kind):
    rng = np.random.default_rng(0)
    m = rng.normal(size=(9, 9))
    m = m + m.T if kind != "asymmetric" else m
    known = np.ones((9, 9), dtype=bool)
    if kind.startswith("partial"):
        known[:] = False
        known[[1, 4], :] = True
        known[:, [1, 4]] = kind == "partial"
        m = np.where(known, m, np.nan)
    spec = encode_matrix(m, known)
    assert spec["symmetric"] == (kind in ("symmetric", "partial"))
    assert (spec["known"] is None) == (not kind.startswith("partial"))
    np.testing.assert_array_equal(decode_matrix(spec), m)
    payload_json(spec)  # no NaN in it


def test_payload_json_refuses_nan():
    with pytest.raises(ValueError):
        payload_json({"z": [1.0, float("nan")]})


# ---------------------------------------------------------------- one renderer: Python writes, the browser lays out
EDGE_VALUES = [
    0.03125,
    -0.09375,
    1e-05,
    -1.5e-07,
    123456789.0,
    1e16,
    -0.0,
    0.1 + 0.2,
    5e-324,
    2.5e-05,
    1.03125,
    -1e-4,
    0.00015,
    12345.678,
    1e22,
    -3.0,
]
"""Values JavaScript writes differently from Python by default: ties at the 4th decimal (Python rounds half to
even), tiny and huge exponents, negative zero, 0.1 + 0.2."""


def test_payload_carries_each_value_as_the_texts_python_writes():
    code = encode_values(np.array(EDGE_VALUES))
    assert value_texts(code) == [(short(v), exact(v)) for v in EDGE_VALUES]
    assert [VALUE_TEXT.format(short=s, exact=x) for s, x in value_texts(code)] == [value_text(v) for v in EDGE_VALUES]
    decoded = decode_values(code)  # the numbers read back from the exact texts: the same floats
    np.testing.assert_array_equal(decoded, EDGE_VALUES)
    assert list(np.signbit(decoded)) == [np.signbit(v) for v in EDGE_VALUES]
    assert decode_texts(encode_texts([])) == [] and decode_texts(encode_texts(["-1.5e-07"])) == ["-1.5e-07"]
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite"):
            encode_values(np.array([1.0, bad]))


@pytest.mark.parametrize("rows", [None, 4])
def test_report_data_holds_every_text_the_views_show(rows):
    e = make_long_explanation(60, rows=rows, seed=5)
    _, data = report_payload(e.to_html())
    m, known = e.interactions, known_cells(e)
    assert value_texts(data["matrix"]["totals"]) == [(short(v), exact(v)) for v in (m + m.T)[total_pairs(known)]]
    assert value_texts(data["attributions"]) == [(short(a), exact(a)) for a in e.attributions]
    assert data["templates"] == TEMPLATES
    focus = data["focus"]
    assert focus["rows"] == focus_rows(e)
    for k, i in enumerate(focus["rows"]):
        shown = visualize.plot_word_focus(e, i)
        assert focus["titles"][k] == shown.layout.title.text
        assert focus["bars"][k] == [j for j, _ in focus_bars(e, i)]
        palette = THEMES["light"]
        assert [palette.positive if c == "+" else palette.negative for c in focus["signs"][k]] == list(
            shown.data[0].marker.color
        )
        assert focus["ticks"][k] in shown.data[0].x and focus["restLabel"] == shown.data[0].x[-1]
    rest = [(short(focus_bars(e, i)[-1][1]), exact(focus_bars(e, i)[-1][1])) for i in focus["rows"]]
    assert value_texts(focus["rest"]) == rest
    assert data["vmax"]["hidden"] == visualize.plot_interactions(e).data[0].zmax
    assert data["vmax"]["shown"] == visualize.plot_interactions(e, show_diagonal=True).data[0].zmax


def test_hover_templates_hold_only_plain_fields():
    """The script fills ``{name}`` fields as ``str.format`` does: no format specs, conversions or literal braces."""
    for template in TEMPLATES.values():
        fields = list(string.Formatter().parse(template))
        assert all(
            spec in ("", None) and conversion is None and (name is None or name.isidentifier())
            for _, name, spec, conversion in fields
        ), template
        assert "{{" not in template and "}}" not in template


def test_browser_code_is_one_package_file_that_formats_no_number(expl):
    js = report_js()
    assert js == (Path(visualize.__file__).parent / "report.js").read_text(encoding="utf-8")
    assert "</" not in js and "<!--" not in js  # inlined in a <script> element as it is
    for formatter in ("toFixed", "toExponential", "toPrecision", "toLocaleString", "Intl.", "toString("):
        assert formatter not in js
    page = expl.to_html()
    assert page.count(js) == 1 and expl._repr_html_().count(js) == 1


# ---------------------------------------------------------------- partial matrices
ROWS = [2, 5, 11]


def _partial(mask: bool = True):
    return make_partial(make_explanation(THIRTY_WORDS, seed=8), ROWS, mask=mask)


def _z(trace) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in trace.z], dtype=float)


def test_factory_partial_matrix_has_exact_rows_and_nan_elsewhere():
    full = make_explanation(THIRTY_WORDS, seed=8)
    e = _partial()
    known = np.zeros((30, 30), dtype=bool)
    known[ROWS, :] = known[:, ROWS] = True
    np.testing.assert_array_equal(e.computed, known)
    np.testing.assert_array_equal(e.interactions[known], full.interactions[known])
    assert np.isnan(e.interactions[~known]).all()
    np.testing.assert_allclose(e.interactions[ROWS].sum(axis=1), e.attributions[ROWS], atol=1e-12)
    assert partial_rows(full, 3) == sorted(np.argsort(-np.abs(full.attributions))[:3].tolist())


def test_top_interactions_skip_cells_not_computed():
    e = _partial()
    top = e.top_interaction_indices(1000)
    assert len(top) == 3 * 29 - 3  # the pairs with a known row: 29 each, the 3 among the rows counted once
    assert all((i in ROWS or j in ROWS) and np.isfinite(v) for i, j, v in top)
    assert all(abs(a[2]) >= abs(b[2]) for a, b in zip(top, top[1:]))
    assert [t[2] for t in e.top_interactions(5, absolute=False)] == sorted((v for *_, v in top), reverse=True)[:5]


@pytest.mark.parametrize("mask", [True, False], ids=["computed-mask", "nan-only"])
def test_matrix_draws_cells_not_computed_as_unknown(mask):
    e = _partial(mask)
    known = known_cells(e)
    fig = visualize.plot_interactions(e)
    main, unknown = fig.data
    z = _z(main)
    assert np.isnan(z[~known]).all()  # gaps, never 0
    off = known & ~np.eye(30, dtype=bool)
    np.testing.assert_array_equal(z[off], e.interactions[off])
    np.testing.assert_array_equal(_z(unknown) == 1, ~known)
    assert unknown.colorscale[0][1] == THEMES["light"].unknown and unknown.showscale is False
    assert main.zmax == pytest.approx(np.abs(e.interactions[off]).max())
    for i, j in [(0, 1), (3, 3), (29, 0)]:
        assert NOT_COMPUTED in main.text[i][j]
    assert repr(float(e.interactions[2, 7])) in main.text[2][7] and "pair total" in main.text[2][7]
    assert "3 of 30 rows exact" in fig.layout.title.text
    payload = fig.to_json()
    assert "NaN" not in payload and "nan" not in payload.lower().replace("nan(", "")
    for args in (b.args[0] for b in fig.layout.updatemenus[0].buttons):
        shown = np.array([[np.nan if v is None else v for v in row] for row in args["z"][0]], dtype=float)
        assert np.isnan(shown[~known]).all()


@pytest.mark.parametrize("mask", [True, False], ids=["computed-mask", "nan-only"])
def test_pair_views_use_only_computed_cells(mask):
    e = _partial(mask)
    bars = visualize.plot_top_pairs(e, k=12)
    assert list(bars.data[0].x) == [v for *_, v in e.top_interaction_indices(12)]
    assert "computed" in bars.layout.title.text
    for i, j, v in select_pairs(e, threshold=0.0):
        assert (i in ROWS or j in ROWS) and np.isfinite(v)
    arcs = [t for t in visualize.plot_arcs(e, k=20).data if t.mode == "lines"]
    assert len(arcs) == 20


@pytest.mark.parametrize("mask", [True, False], ids=["computed-mask", "nan-only"])
def test_word_focus_offers_only_computed_rows(mask):
    e = _partial(mask)
    assert focus_rows(e) == ROWS
    fig = visualize.plot_word_focus(e, selector=True)
    best = max(ROWS, key=lambda i: abs(e.attributions[i]))
    assert f"[{best}]" in fig.layout.title.text
    assert sum(fig.data[0].y) == pytest.approx(e.attributions[best], abs=1e-12)
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == [f"{THIRTY_WORDS[i]} [{i}]" for i in ROWS]
    with pytest.raises(ValueError, match=r"was not computed.*exact rows"):
        visualize.plot_word_focus(e, 0)


def test_text_view_is_unaffected_by_a_partial_matrix():
    assert text_html(_partial()) == text_html(make_explanation(THIRTY_WORDS, seed=8))


@pytest.mark.parametrize("mask", [True, False], ids=["computed-mask", "nan-only"])
def test_partial_report_sends_only_computed_cells(mask):
    e = make_long_explanation(60, rows=4, mask=mask)
    page = e.to_html()
    figures, data = report_payload(page)
    np.testing.assert_array_equal(decode_matrix(data["matrix"]), e.interactions)  # NaN where not computed
    assert data["matrix"]["known"] is not None and data["focus"]["rows"] == partial_rows(e, 4)
    assert data["orders"]["strength"][:4] == sorted(partial_rows(e, 4), key=data["orders"]["strength"].index)
    assert set(data["orders"]["strength"][:4]) == set(partial_rows(e, 4))
    json.dumps([figures, data], allow_nan=False)  # no NaN anywhere in what the script reads
    again = type(e).from_json(e.to_json())  # a saved partial explanation renders the same numbers
    np.testing.assert_array_equal(decode_matrix(report_payload(again.to_html())[1]["matrix"]), e.interactions)
    assert "Grey cells were not computed" in page


def test_explanation_without_any_full_row_still_renders():
    e = make_explanation(WORDS, seed=1)
    e.interactions = np.full((len(WORDS), len(WORDS)), np.nan)
    assert "No row of the interaction matrix" in e.to_html(full_document=False)
    with pytest.raises(ValueError, match="no row"):
        visualize.plot_word_focus(e)
    assert visualize.plot_top_pairs(e).data[0].x == ()


# ---------------------------------------------------------------- long inputs: readable views
def test_strength_order_puts_exact_rows_first_within_blocks():
    full = make_explanation(THIRTY_WORDS, seed=8)
    order = feature_order(full, "strength")
    off = full.interactions - np.diag(np.diag(full.interactions))
    norms = np.sqrt((off**2).sum(axis=1))
    assert sorted(order) == list(range(30)) and list(norms[order]) == sorted(norms, reverse=True)
    assert sorted(feature_order(_partial(), "strength")[:3]) == ROWS
    pair = make_explanation(THIRTY_WORDS, seed=8, word_groups=[0] * 12 + [1] * 18)
    grouped = feature_order(pair, "strength")
    assert sorted(grouped[:12]) == list(range(12)) and sorted(grouped[12:]) == list(range(12, 30))
    with pytest.raises(ValueError, match="unknown order"):
        feature_order(full, "alphabetical")
    assert list(visualize.plot_interactions(full, order="strength").data[0].x) == [
        f"{THIRTY_WORDS[i]} [{i}]" for i in order
    ]


def test_long_matrices_keep_a_bounded_size():
    e = make_long_explanation(160, rows=16)
    fig = visualize.plot_interactions(e)
    assert fig.layout.height < MAX_PLOT_PX + 400 and fig.layout.width < MAX_PLOT_PX + 400
    assert fig.data[0].xgap == 0 and 160 > DENSE
    assert visualize.plot_interactions(make_explanation(WORDS)).data[0].xgap == 1
    lean = report._sections(expl=e)[0].build(e, "light")
    assert lean.layout.height == fig.layout.height + 40  # the order switch's row
    assert [m.name for m in lean.layout.updatemenus] == ["ih-diagonal", "ih-order"]
    assert lean.layout.updatemenus[1].active == 1  # a partial matrix opens with its exact rows as one block


def test_word_focus_of_a_long_text_keeps_the_strongest_bars():
    e = make_long_explanation(100, seed=4)
    i = 7
    bars = focus_bars(e, i)
    assert len(bars) == FOCUS_BARS and bars[-1][0] is None
    assert sum(v for _, v in bars) == pytest.approx(e.attributions[i], abs=1e-12)
    shown = [j for j, _ in bars[:-1]]
    assert i in shown and shown == sorted(shown)
    weakest_shown = min(abs(e.interactions[i, j]) for j in shown if j != i)
    assert all(abs(e.interactions[i, j]) <= weakest_shown for j in range(100) if j not in shown)
    fig = visualize.plot_word_focus(e, i)
    assert fig.data[0].x[-1] == f"{100 - FOCUS_BARS + 1} other words" and len(fig.data[0].x) == FOCUS_BARS
    assert len(focus_bars(make_long_explanation(FOCUS_BARS), 0)) == FOCUS_BARS  # all of them, no "other" bar


def test_arcs_of_a_long_text_label_only_the_ends_of_arcs():
    e = make_long_explanation(200)
    fig = visualize.plot_arcs(e)
    ends = {w for i, j, _ in select_pairs(e) for w in (i, j)}
    assert len(fig.layout.annotations) == len(ends) < LABEL_ALL
    assert len(fig.data[-1].x) == 200 and len(fig.data[-1].hovertext) == 200  # every word keeps its marker


def test_long_sentence_features_wrap_in_both_text_views():
    e = make_sentence_explanation(12, words_per_sentence=30)
    assert max(len(w) for w in e.words) > 150
    placed = _wrap(text_segments(e), 80)
    assert all(len(seg.text) <= 80 for seg, _, _ in placed)
    for i, word in enumerate(e.words):  # each sentence's pieces put back together, in order
        pieces = [seg.text for seg, _, _ in placed if seg.word == i]
        assert len(pieces) > 1 and " ".join(pieces) == word
    fig = visualize.plot_text(e)
    assert max(a.x for a in fig.layout.annotations) < 81 and all(
        a.bgcolor for a in fig.layout.annotations if a.hovertext
    )
    tips = [html.unescape(t) for t in re.findall(r'data-ih-tip="([^"]*)"', text_html(e))]
    assert len(tips) == 12 and all(len(t.split(" [", 1)[0]) <= TIP_CHARS for t in tips)
    assert "Each sentence coloured" in e.to_html(full_document=False) or getattr(e, "level", "word") == "word"


def test_long_words_wrap_in_hover_labels_and_stay_escaped():
    words = ["fine", "x" * 10 + " <b>" + " ".join(["long"] * 40) + "</b>", "end"]
    e = make_explanation(words, seed=1)
    text = visualize.plot_interactions(e).data[0].text[1][0]
    assert "<b>long" not in text and "&lt;b&gt;long" in text
    assert text.count("<br>") >= 3  # wrapped about every 60 characters
