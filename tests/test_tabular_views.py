"""The tabular views share the text views' stack: feature names (and every other user string) escaped wherever
plotly shows them, the same diverging colour scale with positive values blue, and the same ``theme=``."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from explanation_factory import make_explanation

from transformers_ih import visualize
from transformers_ih.tabular import (
    TabularExplanation,
    dependence_plot,
    interaction_heatmap,
    summary_plot,
    top_pairs_plot,
)
from transformers_ih.visualize.theme import THEMES

XSS_NAMES = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '" onmouseover="alert(1)', "%{x}"]
RAW = ("<script", "<img", 'onmouseover="')
HOVER_TEMPLATES = {"%{text}<extra></extra>", "%{hovertext}<extra></extra>"}


def tabular_explanation(names, n=9, seed=0, **fields):
    """A hand-made :class:`TabularExplanation` (no model): symmetric interactions whose rows sum to the
    attributions, with pairs of both signs."""
    rng = np.random.default_rng(seed)
    d = len(names)
    upper = np.triu(rng.normal(size=(n, d, d)), k=1)
    interactions = upper + upper.transpose(0, 2, 1) + rng.normal(size=(n, 1, d)) * np.eye(d)
    attributions = interactions.sum(axis=2)
    features = rng.normal(size=(n, d))
    zeros = np.zeros(n)
    return TabularExplanation(
        feature_names=names,
        features=features,
        feature_values=features * 3,
        attributions=attributions,
        attributions_se=np.full((n, d), 0.01),
        interactions=interactions,
        interactions_se=np.full((n, d, d), 0.01),
        f_input=attributions.sum(axis=1),
        f_baseline=zeros,
        f_background=zeros,
        completeness_gap=zeros,
        completeness_se=zeros,
        quadrature_error=zeros,
        **fields,
    )


@pytest.fixture(scope="module")
def xss():
    return tabular_explanation(XSS_NAMES, target="<script>alert(2)</script>", method="<img src=y onerror=alert(3)>")


def every_figure(e, theme="light"):
    return {
        "summary": summary_plot(e, theme=theme),
        "dependence": dependence_plot(e, 0, theme=theme),
        "dependence_named": e.plot_dependence(1, 0, y="interaction", error_bars=True, theme=theme),
        "dependence_plain": dependence_plot(e, 0, None, y="main_effect", theme=theme),
        "dependence_template_name": dependence_plot(e, 3, 1, theme=theme),  # "%{x}" stays data, never a template
        "heatmap": interaction_heatmap(e, theme=theme),
        "heatmap_signed": e.plot_interactions(signed=True, diagonal=True, theme=theme),
        "top_pairs": top_pairs_plot(e, k=6, theme=theme),
        "summary_method": e.plot_summary(theme=theme),
        "top_pairs_method": e.plot_top_pairs(3, theme=theme),
    }


def strings(node):
    """Every string in a decoded JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_feature_names_appear_only_escaped_in_every_figure(xss, theme):
    for name, fig in every_figure(xss, theme).items():
        payload = fig.to_json()
        assert not any(raw in payload for raw in RAW), name
        decoded = list(strings(json.loads(payload)))
        leaks = [s for s in decoded if any(raw in s for raw in RAW)]
        assert leaks == [], name
        assert "&quot;" not in payload, name  # plotly.js does not decode it; quotes are numeric entities
        assert any("&lt;script&gt;" in s or "&lt;img" in s for s in decoded), name
        assert {t.hovertemplate for t in fig.data} <= HOVER_TEMPLATES, name  # no user text in templates


def test_each_place_a_name_is_shown_holds_the_escaped_name(xss):
    script, img = "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"
    summary = summary_plot(xss)
    assert set(summary.layout.yaxis.ticktext) >= {script, img}
    assert {t.name for t in summary.data} >= {script, img}  # legend entries
    assert any(script in h for t in summary.data for h in t.hovertext)
    assert "&lt;img src=y" in summary.layout.title.text and "&lt;script&gt;alert(2)" in summary.layout.xaxis.title.text
    dep = dependence_plot(xss, 0, 1)
    assert script in dep.layout.title.text and img in dep.layout.title.text
    assert dep.data[0].marker.colorbar.title.text == img and script in dep.layout.xaxis.title.text
    assert dep.layout.meta == {"feature": script, "interaction_feature": img}
    assert script in dep.data[0].hovertext[0] and img in dep.data[0].hovertext[0]
    heat = interaction_heatmap(xss)
    assert set(heat.data[0].x) == set(heat.data[0].y) >= {script, img}
    assert any(script in cell for row in heat.data[0].text for cell in row)
    bars = top_pairs_plot(xss, k=6)
    assert f"{script} × {img}" in bars.data[0].y or f"{img} × {script}" in bars.data[0].y
    titled = summary_plot(xss, title=XSS_NAMES[0])  # a caller's title is escaped too
    assert titled.layout.title.text == script


def _scale(trace):
    return [(float(pos), color) for pos, color in trace.colorscale]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_positive_values_take_the_text_views_colour(theme):
    p = THEMES[theme]
    tab = tabular_explanation(["a", "b", "c", "d"])
    text = visualize.plot_interactions(make_explanation(["a", "fine", "film"]), theme=theme).data[0]
    signed = tab.plot_interactions(signed=True, diagonal=True, theme=theme).data[0]
    assert _scale(signed) == _scale(text)  # the same diverging scale ...
    assert signed.zmid == text.zmid == 0.0 and signed.zmin == -signed.zmax  # ... centred at 0
    assert _scale(text)[-1][1] == p.positive and _scale(text)[0][1] == p.diverging[0][1]
    unsigned = tab.plot_interactions(theme=theme).data[0]  # mean |interaction|: the positive half from 0
    assert _scale(unsigned)[-1] == _scale(text)[-1] and _scale(unsigned)[0] == (0.0, p.diverging[2][1])
    assert unsigned.zmin == 0.0
    # signed marks: positive blue, negative red, as the text views' bars
    mean = tab.mean_interaction
    bars = tab.plot_top_pairs(6, theme=theme).data[0]
    pairs = tab.top_interaction_indices(6)[::-1]
    assert list(bars.marker.color) == [p.positive if mean[i, j] >= 0 else p.negative for i, j, _ in pairs]
    assert {p.positive, p.negative} <= set(bars.marker.color)
    plain = dependence_plot(tab, 0, None, theme=theme).data[0]
    assert list(plain.marker.color) == [p.positive if v >= 0 else p.negative for v in tab.attributions[:, 0]]
    summary = summary_plot(tab, theme=theme)  # high feature values take the positive colour
    assert _scale_of(summary.layout.coloraxis)[-1][1] == p.positive


def _scale_of(axis):
    return [(float(pos), color) for pos, color in axis.colorscale]


def test_dark_theme_changes_the_layout_as_in_the_text_views():
    tab = tabular_explanation(["a", "b", "c", "d"])
    text = make_explanation(["a", "fine", "film"])
    seen = {}
    for theme in ("light", "dark"):
        p = THEMES[theme]
        reference = visualize.plot_top_pairs(text, theme=theme).layout
        figures = every_figure(tab, theme)
        for fig in figures.values():
            assert isinstance(fig, go.Figure)
            layout = fig.layout
            assert layout.template == reference.template
            assert layout.paper_bgcolor == reference.paper_bgcolor == p.background
            assert layout.font.color == reference.font.color == p.foreground
            assert layout.font.family == reference.font.family
            assert layout.xaxis.gridcolor == reference.xaxis.gridcolor
        text_view = visualize.plot_interactions(text, theme=theme)
        assert figures["heatmap"].layout.plot_bgcolor == text_view.layout.plot_bgcolor
        seen[theme] = figures["summary"].layout.paper_bgcolor
    assert seen["light"] != seen["dark"]
    calls = (tab.plot_summary, tab.plot_interactions, tab.plot_top_pairs, lambda **kw: tab.plot_dependence(0, **kw))
    for call in calls:
        with pytest.raises(ValueError, match="unknown theme"):
            call(theme="sepia")
    with pytest.raises(ValueError, match="unknown theme"):
        visualize.plot_top_pairs(text, theme="sepia")
