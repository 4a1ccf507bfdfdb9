"""Exact selected rows (``rows=``): the rows of chosen features, exact and full, NaN elsewhere, never 0."""

from __future__ import annotations

import numpy as np
import pytest

from transformers_ih import Explanation, SequenceClassificationInteractionExplainer

TEXT = "the film is not bad at all and i liked it"


@pytest.fixture(scope="module")
def explainer(tiny_task_model):
    return SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))


def test_selected_rows_equal_the_full_matrix_rows(explainer):
    full = explainer(TEXT, steps=8, method="gauss")
    part = explainer(TEXT, steps=8, method="gauss", rows=[3, "bad"])
    rows = part.meta["rows"]
    assert rows == [3, 4] and part.words[3:5] == ["not", "bad"]
    scale = np.abs(full.interactions).max()
    np.testing.assert_allclose(part.interactions[rows], full.interactions[rows], atol=1e-6 * scale)
    np.testing.assert_allclose(part.interactions[:, rows], full.interactions[:, rows], atol=1e-6 * scale)
    # every attribution exact (through the path direction), each computed row sums to its attribution
    np.testing.assert_allclose(part.attributions, full.attributions, atol=1e-6 * scale)
    np.testing.assert_allclose(part.interactions[rows].sum(1), part.attributions[rows], atol=1e-6 * scale)
    assert part.completeness_error == pytest.approx(full.completeness_error, abs=1e-6)
    # the rest is unknown, never a silent 0
    mask = np.zeros_like(part.computed)
    mask[rows, :] = mask[:, rows] = True
    assert (part.computed == mask).all()
    assert np.isnan(part.interactions[~part.computed]).all() and np.isfinite(part.interactions[part.computed]).all()
    assert full.computed is None and "rows" not in full.meta
    again = Explanation.from_json(part.to_json())
    assert again == part and (again.computed == part.computed).all()
    # pairs are ranked among computed cells only
    assert all(np.isfinite(v) for _, _, v in part.top_interactions(5))


def test_rows_k_takes_the_strongest_attributions(explainer):
    ig = explainer(TEXT, interactions=False)
    part = explainer(TEXT, rows=3)
    expected = sorted(np.argsort(-np.abs(ig.attributions))[:3].tolist())
    assert part.meta["rows"] == expected and "attribution" in part.meta["row_screen"]
    assert part.completeness_error <= max(1e-3 * abs(part.f_input - part.f_baseline), 1e-4)
    many = explainer([TEXT, "not good"], rows=2, steps=6)
    assert [len(m.meta["rows"]) for m in many] == [2, 2]
    assert explainer("good", rows=5, steps=4).meta["rows"] == [0]  # k above the number of features: all


def test_bad_rows(explainer):
    with pytest.raises(ValueError, match="out of range"):
        explainer(TEXT, rows=[40])
    with pytest.raises(ValueError, match="'the' occurs 1 times|is not one of the features"):
        explainer(TEXT, rows=["thee"])
    with pytest.raises(ValueError, match="k >= 1"):
        explainer(TEXT, rows=0)
    with pytest.raises(ValueError, match="empty list"):
        explainer(TEXT, rows=[])
    with pytest.raises(TypeError, match="rows must be"):
        explainer(TEXT, rows="not")
