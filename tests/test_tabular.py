"""TabularInteractionExplainer: per-row results against closed forms and the engine, dataset summaries, JSON
round trip, model handling (targets, ReLU smoothing, state restored), and the plotly views."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
import torch.nn as nn

from transformers_ih.engine.expected import expected_hessians
from transformers_ih.tabular import (
    TabularExplanation,
    TabularInteractionExplainer,
    dependence_plot,
    interaction_heatmap,
    summary_plot,
    top_pairs_plot,
)

pytestmark = pytest.mark.usefixtures("float64")  # the math in float64 for this module only (models stay float32)
NAMES = ["age", "dose", "weight", "height"]


class Known(nn.Module):
    """``2 x0 x1 + sin(x2) + x3``: one interacting pair (age, dose)."""

    def forward(self, X):
        return (2 * X[:, 0] * X[:, 1] + torch.sin(X[:, 2]) + X[:, 3])[:, None]


def closed_form(x, xb):
    """Integrated Hessians of ``Known`` from ``xb`` to ``x`` (see tests/test_expected.py for the derivation)."""
    d = x - xb
    gamma = np.zeros((4, 4))
    gamma[0, 1] = gamma[1, 0] = 2 * d[0] * d[1] / 4
    gamma[0, 0] = d[0] * (2 * xb[1] + 2 * d[1] / 4)
    gamma[1, 1] = d[1] * (2 * xb[0] + 2 * d[0] / 4)
    gamma[2, 2] = np.sin(x[2]) - np.sin(xb[2])
    gamma[3, 3] = d[3]
    return gamma


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, 4)), rng.normal(size=(12, 4))  # background, rows


@pytest.fixture(scope="module")
def explanation(table):
    background, rows = table
    return TabularInteractionExplainer(Known(), NAMES, background)(rows, feature_values=rows * 10)


def test_rows_match_the_closed_form_exactly_when_the_background_is_covered(table, explanation):
    background, rows = table
    e = explanation
    assert e.exact and e.samples == 30 and e.background_size == 30 and e.path_samples == "gauss"
    truth = np.stack([np.mean([closed_form(x, b) for b in background], axis=0) for x in rows])
    np.testing.assert_allclose(e.interactions, truth, atol=1e-7)
    np.testing.assert_allclose(e.attributions, truth.sum(axis=2), atol=1e-7)
    assert np.all(e.interactions_se == 0) and np.all(np.abs(e.completeness_gap) < 1e-7)
    f = Known()
    with torch.no_grad():
        np.testing.assert_allclose(e.f_input, f(torch.tensor(rows))[:, 0].numpy())
        np.testing.assert_allclose(e.f_background, float(f(torch.tensor(background)).mean()))
    assert e.features.shape == (12, 4) and np.array_equal(e.feature_values, rows * 10)
    assert e.method == "expected_hessians" and e.target == "output" and e.smoothing is None


def test_sampled_rows_agree_with_the_engine_and_report_standard_errors(table):
    background, rows = table
    explainer = TabularInteractionExplainer(Known(), NAMES, background, samples=10, seed=3)
    e = explainer(torch.tensor(rows))
    r = expected_hessians(
        lambda X: Known()(X)[:, 0],
        torch.tensor(rows),
        torch.tensor(background),
        samples=10,
        seed=3,
        internal_batch_size=4096,
    )
    np.testing.assert_allclose(e.interactions, r.interactions, atol=1e-12)
    np.testing.assert_allclose(e.interactions_se, r.interactions_se, atol=1e-12)
    assert not e.exact and e.samples == 10 and np.all(e.interactions_se[:, 0, 1] > 0)
    assert np.array_equal(explainer(rows).interactions, e.interactions)  # seeded: reproducible
    assert not np.array_equal(explainer(rows, seed=4).interactions, e.interactions)


def test_dataset_summaries(explanation):
    e = explanation
    np.testing.assert_allclose(e.mean_abs_attribution, np.abs(e.attributions).mean(0))
    np.testing.assert_allclose(e.mean_abs_interaction, np.abs(e.interactions).mean(0))
    np.testing.assert_allclose(e.mean_interaction, e.interactions.mean(0))
    ranking = e.feature_ranking()
    assert sorted(ranking) == [0, 1, 2, 3]
    assert all(e.mean_abs_attribution[a] >= e.mean_abs_attribution[b] for a, b in zip(ranking, ranking[1:]))
    top = e.top_interactions(3)
    assert top[0][:2] == ("age", "dose") and top[0][2] == pytest.approx(e.mean_abs_interaction[0, 1])
    assert all(abs(v) < 1e-12 for _, _, v in top[1:])  # no other pair interacts
    assert e.strongest_partner("age") == 1 and e.strongest_partner(1) == 0
    assert [n for n, _ in e.top_features(4)] == [NAMES[i] for i in ranking]
    text = e.summary()
    assert "age x dose" in text and "exact" in text
    with pytest.raises(KeyError, match="unknown feature"):
        e.feature_index("colour")


def test_json_round_trip_is_exact(tmp_path, explanation, table):
    e = explanation
    assert TabularExplanation.from_json(e.to_json()) == e
    path = tmp_path / "rows.json"
    e.to_json(path)
    back = TabularExplanation.from_json(path)
    assert back == e and np.array_equal(back.interactions, e.interactions) and back.feature_names == NAMES
    # one sample: standard errors cannot be estimated (NaN) and still round-trip
    background, rows = table
    single = TabularInteractionExplainer(Known(), NAMES, background, samples=1, path_samples="gauss")(rows[:2])
    assert np.isnan(single.attributions_se).all()
    again = TabularExplanation.from_json(single.to_json())
    assert again == single and np.isnan(again.attributions_se).all()
    bad = json.loads(e.to_json())
    bad["colour"] = 1
    with pytest.raises(ValueError, match="unknown fields"):
        TabularExplanation.from_dict(bad)


def test_gradients_only_targets_and_bad_inputs(table):
    background, rows = table
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    e = TabularInteractionExplainer(net, NAMES, background, target=2)(rows, interactions=False)
    assert e.interactions is None and e.method == "expected_gradients" and e.target == "output[2]"
    with torch.no_grad():
        np.testing.assert_allclose(e.f_input, net(torch.tensor(rows))[:, 2].numpy())
    assert 0 <= e.strongest_partner(0) < 4 and e.strongest_partner(0) != 0
    with pytest.raises(ValueError, match="interactions=True"):
        e.plot_interactions()
    with pytest.raises(ValueError, match="target"):
        TabularInteractionExplainer(net, NAMES, background)(rows)
    with pytest.raises(ValueError, match="feature names"):
        TabularInteractionExplainer(net, NAMES[:3], background)
    with pytest.raises(ValueError, match="background is required"):
        TabularInteractionExplainer(net, NAMES)
    with pytest.raises(ValueError, match="expected"):
        TabularInteractionExplainer(net, NAMES, background, target=0)(rows[:, :3])
    one = TabularInteractionExplainer(net, NAMES, background, target=0)(rows[0])
    assert one.attributions.shape == (1, 4)


def test_relu_model_is_smoothed_and_left_as_it_was(table):
    background, rows = table
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1))
    net.train()
    e = TabularInteractionExplainer(net, NAMES, background, samples=8)(rows[:4])
    assert e.smoothing == "softplus(beta=20)"
    assert np.abs(e.interactions * (1 - np.eye(4))).max() > 0  # smoothed: interactions exist
    assert net.training and all(p.requires_grad for p in net.parameters())  # restored
    assert e.model_evaluations > 0 and e.quadrature_error.shape == (4,)


# ------------------------------------------------------------------------------------------------ views
def test_summary_plot(explanation):
    e = explanation
    fig = summary_plot(e)
    assert isinstance(fig, go.Figure)
    assert [t.type for t in fig.data] == ["scatter"] * 4
    assert [t.name for t in fig.data] == [NAMES[i] for i in e.feature_ranking()]
    for trace in fig.data:
        i = NAMES.index(trace.name)
        np.testing.assert_allclose(trace.x, e.attributions[:, i])
        colours = np.asarray(trace.marker.color)
        assert len(colours) == e.num_rows and colours.min() >= 0 and colours.max() <= 1
        assert trace.marker.coloraxis == "coloraxis"
    assert list(fig.layout.yaxis.ticktext) == [NAMES[i] for i in e.feature_ranking()]
    assert len(e.plot_summary(max_features=2).data) == 2


def test_dependence_plot(explanation):
    e = explanation
    fig = dependence_plot(e, "age")
    (trace,) = fig.data
    assert fig.layout.meta["interaction_feature"] == "dose"  # chosen automatically: the strongest partner
    np.testing.assert_allclose(trace.x, e.feature_values[:, 0])
    np.testing.assert_allclose(trace.y, e.attributions[:, 0])
    np.testing.assert_allclose(trace.marker.color, e.feature_values[:, 1])
    named = e.plot_dependence("dose", "weight", y="interaction", error_bars=True)
    assert named.layout.meta == {"feature": "dose", "interaction_feature": "weight"}
    np.testing.assert_allclose(named.data[0].y, 2 * e.interactions[:, 1, 2])
    assert named.data[0].error_y.visible
    plain = dependence_plot(e, 2, None, y="main_effect")
    np.testing.assert_allclose(plain.data[0].y, e.interactions[:, 2, 2])
    assert plain.layout.meta["interaction_feature"] is None
    with pytest.raises(ValueError, match="differ"):
        dependence_plot(e, "age", "age")


def test_interaction_heatmap_and_top_pairs(explanation):
    e = explanation
    fig = interaction_heatmap(e)
    (heat,) = fig.data
    assert heat.type == "heatmap"
    order = e.feature_ranking()
    assert list(heat.x) == [NAMES[i] for i in order] == list(heat.y)
    z = np.asarray(heat.z, dtype=float)
    assert np.isnan(np.diag(z)).all()
    expected = e.mean_abs_interaction[np.ix_(order, order)]
    off = ~np.eye(4, dtype=bool)
    np.testing.assert_allclose(z[off], expected[off])
    np.testing.assert_allclose(z[off], z.T[off])
    signed = e.plot_interactions(signed=True, diagonal=True)
    np.testing.assert_allclose(np.asarray(signed.data[0].z, dtype=float), e.mean_interaction[np.ix_(order, order)])
    assert signed.data[0].zmin == -signed.data[0].zmax
    bars = top_pairs_plot(e, k=3)
    assert bars.data[0].type == "bar" and len(bars.data[0].y) == 3
    assert bars.data[0].y[-1] == "age × dose"  # strongest at the top (labelled as in the text views)
    assert isinstance(e.plot_top_pairs(2), go.Figure)
