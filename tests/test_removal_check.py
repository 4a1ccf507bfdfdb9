"""The removal check stored with every explanation that has interactions (issue 24, item 1): its numbers equal the
explainer's own coalition values recomputed by hand, on several tasks of the task table, with ``rows=`` and with a
custom output; it never changes attributions or interactions; it survives JSON and shows (escaped) in the report."""

from __future__ import annotations

import numpy as np
import pytest
from test_task_table import RAW, TABLE, explanations_of

from transformers_ih import Explanation

ROWS = {row.id: row for row in TABLE}


def by_hand(explainer, e: Explanation, k: int = 10) -> dict:
    """Leave-one-out values and the top ``k`` computed pairs' removal interactions, from ``coalition_values``."""
    W = len(e.words)
    pairs = [(i, j) for i, j, _ in e.top_interaction_indices(k)]
    masks = np.ones((1 + W + len(pairs), W), dtype=bool)
    for i in range(W):
        masks[1 + i, i] = False
    for row, (i, j) in enumerate(pairs):
        masks[1 + W + row, [i, j]] = False
    v = explainer.coalition_values(e, masks)
    loo = v[0] - v[1 : 1 + W]
    delta = [v[0] - v[1 + i] - v[1 + j] + v[1 + W + row] for row, (i, j) in enumerate(pairs)]
    value = [e.interactions[i, j] + e.interactions[j, i] for i, j in pairs]
    return {"pairs": pairs, "leave_one_out": loo, "removal": np.array(delta), "interaction": np.array(value)}


def assert_check_matches(explainer, e: Explanation, k: int = 10) -> None:
    check = e.removal_check
    expected = by_hand(explainer, e, k)
    assert [(p["i"], p["j"]) for p in check["pairs"]] == expected["pairs"]
    np.testing.assert_allclose(check["leave_one_out"], expected["leave_one_out"], atol=1e-5)
    np.testing.assert_allclose([p["removal"] for p in check["pairs"]], expected["removal"], atol=1e-5)
    np.testing.assert_allclose([p["interaction"] for p in check["pairs"]], expected["interaction"], atol=1e-12)
    assert check["input_value"] == pytest.approx(e.f_input, abs=1e-5)
    assert check["coalitions"] == 1 + len(e.words) + len(expected["pairs"])
    if len(expected["pairs"]) >= 2 and np.ptp(expected["removal"]) > 0:
        r = np.corrcoef(expected["interaction"], expected["removal"])[0, 1]
        assert check["correlation"] == pytest.approx(r, abs=1e-6)
    agree = np.mean(np.sign(expected["interaction"]) == np.sign(expected["removal"]))
    assert check["sign_agreement"] == pytest.approx(agree)


@pytest.mark.parametrize("task", ["sequence", "pair", "token", "causal-lm", "seq2seq"])
def test_removal_check_equals_coalition_values_by_hand(task, tiny_task_model):
    row = ROWS[task]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    checked = explanations_of(ex(*row.single, steps=4, **row.kwargs))
    if task in ("sequence", "causal-lm"):
        for e, plain in zip(checked, explanations_of(ex(*row.single, steps=4, check=False, **row.kwargs))):
            assert plain.removal_check is None
            # the check adds model rows only: attributions and interactions are bit for bit those of check=False
            np.testing.assert_array_equal(e.interactions, plain.interactions)
            np.testing.assert_array_equal(e.attributions, plain.attributions)
    for e in checked:
        assert_check_matches(ex, e)
        back = Explanation.from_json(e.to_json())
        assert back == e and back.removal_check == e.removal_check


def test_removal_check_with_rows_k_and_custom_output(tiny_task_model):
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    text = "this film is not bad at all , really"
    part = ex(text, steps=4, rows=[3], check=4)
    check = part.removal_check
    assert len(check["pairs"]) == 4 and len(check["leave_one_out"]) == len(part.words)
    assert all(3 in (p["i"], p["j"]) for p in check["pairs"])  # only computed cells are ranked and checked
    assert_check_matches(ex, part, k=4)

    def margin(out):
        return out.logits[:, 1] - out.logits[:, 0]

    custom = ex(text, steps=4, output=margin, check=3)
    W = len(custom.words)
    assert len(custom.removal_check["pairs"]) == 3
    # the game of a custom output: coalition_values with the same function
    masks = np.ones((1 + W, W), bool)
    masks[1 + np.arange(W), np.arange(W)] = False
    v = ex.coalition_values(custom, masks, output=margin)
    np.testing.assert_allclose(custom.removal_check["leave_one_out"], v[0] - v[1:], atol=1e-5)
    # attributions only: nothing to check against pairs, so no check
    assert ex(text, steps=4, interactions=False).removal_check is None
    one = ex("good", steps=4)
    assert one.removal_check["pairs"] == [] and one.removal_check["correlation"] is None
    assert one.removal_check["leave_one_out"] == pytest.approx([one.f_input - one.f_baseline], abs=1e-5)


@pytest.mark.parametrize("bad", [-1, 2.5, "yes", None])
def test_bad_check_is_refused_naming_the_argument(bad, tiny_task_model):
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    with pytest.raises(ValueError, match=r"check must be True .* got"):
        row.explainer(model, tok)("a film", check=bad)


def test_removal_check_in_the_report_is_escaped_and_old_files_load(tiny_task_model):
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    e = row.explainer(model, tok)(*row.single, steps=4, check=3)
    page = e.to_html()
    assert "Removal check" in page and 'class="ih-check"' in page and "Signs agree on" in page
    assert not any(raw in page for raw in RAW)
    first = e.removal_check["pairs"][0]
    assert f"{first['removal']:+.4f}" in page and f"{first['interaction']:+.4f}" in page
    # a format-3 file (before the check and the estimator) still loads, without them
    old = e.to_dict()
    old.pop("removal_check"), old.pop("estimator")
    old["format_version"] = 3
    loaded = Explanation.from_dict(old)
    assert loaded.removal_check is None and loaded.estimator == "integrated-hessians"
    assert "Removal check" not in loaded.to_html()


def test_removal_check_with_expected_baselines_averages_the_same_draws(tiny_task_model):
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok, baseline="expected", background=2)
    e = ex("not a good film", steps=4, check=3)
    assert e.removal_check["coalitions"] == 1 + 4 + 3
    assert_check_matches(ex, e, k=3)
