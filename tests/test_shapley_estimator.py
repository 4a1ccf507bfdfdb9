"""``estimator=`` a shapiq Shapley interaction index on every text task (issue 24, item 2): at full budget FSII
equals shapiq's own ExactComputer on the explainer's own game (``coalition_values``); efficient indices are
complete and their rows sum to the features' values; JSON keeps every field; bad options are refused naming them.
Tests needing shapiq skip without it locally and fail under CI (tests/optional.py)."""

from __future__ import annotations

import numpy as np
import pytest
from optional import require
from test_task_table import TABLE, explanations_of

from transformers_ih import Explanation

ROWS = {row.id: row for row in TABLE}
FIX = "pip install 'transformers-ih[shapley]' (shapiq)"


def shapiq_or_skip():
    return require("shapiq", FIX)


def exact_matrix(shapiq, explainer, e: Explanation, index: str) -> np.ndarray:
    """shapiq's own exact index of order 2 on ``coalition_values`` of ``e``, in the explanation's convention."""
    W = len(e.words)
    iv = shapiq.ExactComputer(game=lambda masks: explainer.coalition_values(e, masks), n_players=W)(index, order=2)
    M = np.zeros((W, W))
    for T, k in iv.interaction_lookup.items():
        if len(T) == 1:
            M[T[0], T[0]] = iv.values[k]
        elif len(T) == 2:
            M[T[0], T[1]] = M[T[1], T[0]] = iv.values[k] / 2
    return M


SHORT = {"sequence": ("not a good film at all",), "question-answering": ("who wrote it?", "george wrote it")}


@pytest.mark.parametrize("task", ["sequence", "question-answering"])
def test_fsii_at_full_budget_equals_shapiqs_exact_computer(task, tiny_task_model):
    shapiq = shapiq_or_skip()
    row = ROWS[task]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    for e in explanations_of(ex(*SHORT[task], estimator="FSII", budget=2**12, **row.kwargs)):
        W = len(e.words)
        assert e.estimator == "FSII" and e.meta["shapley"]["exact"] and e.meta["shapley"]["budget"] == 2**12
        assert e.meta["shapley"]["coalitions"] == 2**W and e.meta["shapley"]["efficient"]
        reference = exact_matrix(shapiq, ex, e, "FSII")
        scale = float(np.abs(reference).max())
        np.testing.assert_allclose(e.interactions, reference, atol=1e-4 * scale)
        # efficient: complete, and rows sum to the features' values
        np.testing.assert_allclose(e.interactions.sum(1), e.attributions, atol=1e-12)
        assert e.completeness_error < 1e-4 * max(1.0, abs(e.f_input - e.f_baseline))
        v = ex.coalition_values(e, np.array([[True] * W, [False] * W]))
        assert e.f_input == pytest.approx(v[0], abs=1e-5) and e.f_baseline == pytest.approx(v[1], abs=1e-5)
        # the removal check is there too, on the index's pair values
        assert e.removal_check is not None and len(e.removal_check["leave_one_out"]) == W
        back = Explanation.from_json(e.to_json())
        assert back == e and back.estimator == "FSII" and back.meta["shapley"] == e.meta["shapley"]


@pytest.mark.parametrize("index", ["k-SII", "STII", "FBII", "SII"])
def test_other_indices_exact_and_efficiency_stated(index, tiny_task_model):
    shapiq = shapiq_or_skip()
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    e = ex("not a good film", estimator=index, check=False)
    facts = e.meta["shapley"]
    assert facts["exact"] and facts["index"] == index and e.method == "exact" and e.removal_check is None
    np.testing.assert_allclose(e.interactions, exact_matrix(shapiq, ex, e, index), atol=1e-9)
    np.testing.assert_allclose(e.interactions.sum(1), e.attributions, atol=1e-12)
    if index in ("k-SII", "STII"):
        assert facts["efficient"] and e.completeness_error < 1e-6
    else:  # stated, and the report says so
        assert not facts["efficient"]
        assert "not efficient" in e.to_html()
    # every term the index has beyond orders 1 and 2 is kept (here the empty set's)
    assert all(len(t["features"]) not in (1, 2) for t in facts["other_terms"])
    one = ex("good", estimator=index, check=False)  # one feature: its value is the whole difference
    assert one.meta["shapley"]["order"] == 1
    assert one.interactions[0, 0] == pytest.approx(one.f_input - one.f_baseline, abs=1e-6)


def test_sampled_budget_is_recorded_and_reproducible(tiny_task_model):
    shapiq_or_skip()
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    text = "this film is not bad at all , really"  # W = 9: 512 coalitions for exact
    a = ex(text, estimator="FSII", budget=100, seed=3, check=False)
    b = ex(text, estimator="FSII", budget=100, seed=3, check=False)
    assert not a.meta["shapley"]["exact"] and a.meta["shapley"]["budget"] == 100 and a.meta["shapley"]["seed"] == 3
    assert a.meta["shapley"]["coalitions"] <= 100
    np.testing.assert_array_equal(a.interactions, b.interactions)
    exact = ex(text, estimator="FSII", check=False)
    assert exact.meta["shapley"]["exact"] and exact.meta["shapley"]["coalitions"] == 2**9
    assert np.abs(a.interactions - exact.interactions).max() > 0  # sampled, not exact (and said so)
    # shapiq's permutation sampler asks for single coalitions as 1-d rows: the game takes them
    with pytest.raises(ValueError, match=r"budget=16 is too small for STII on 9 features"):
        ex(text, estimator="STII", budget=16, check=False)  # shapiq would return no pairs at all
    stii = ex(text, estimator="STII", budget=400, seed=1, check=False)
    assert not stii.meta["shapley"]["exact"] and stii.meta["shapley"]["computed_by"].endswith("PermutationSamplingSTII")
    off = stii.interactions - np.diag(np.diag(stii.interactions))
    assert np.isfinite(stii.interactions).all() and np.abs(off).max() > 0  # pairs estimated, not left at 0


def test_bad_estimator_options_are_refused_naming_them(tiny_task_model):
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    with pytest.raises(ValueError, match=r"estimator must be one of .*'FSII'.* got 'shap'"):
        ex("a film", estimator="shap")
    with pytest.raises(ValueError, match=r"budget must be a number of coalitions >= 2.* got 1"):
        ex("a film", estimator="FSII", budget=1)
    with pytest.raises(ValueError, match=r"budget=64 applies to the shapiq estimators"):
        ex("a film", budget=64)
    with pytest.raises(ValueError, match=r"rows=\[0\] is an option of Integrated Hessians"):
        ex("a film", estimator="FSII", rows=[0])
    with pytest.raises(ValueError, match=r"interactions=False is an option of Integrated Hessians"):
        ex("a film", estimator="k-SII", interactions=False)


def test_missing_shapiq_says_how_to_install(tiny_task_model, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_shapiq(name, *args, **kwargs):
        if name == "shapiq" or name.startswith("shapiq."):
            raise ImportError("No module named 'shapiq'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_shapiq)
    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    with pytest.raises(ImportError, match=r"pip install 'transformers-ih\[shapley\]'"):
        row.explainer(model, tok)("a film", estimator="FSII")


def test_cli_estimator_writes_fsii_json(tiny_classifier, tmp_path, capsys):
    shapiq_or_skip()
    from transformers_ih.cli import main

    model, tok = tiny_classifier("bert")
    model_dir = tmp_path / "m"
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    out = tmp_path / "e.json"
    assert main(["not bad at all", "--model", str(model_dir), "--estimator", "FSII", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "estimator: FSII (exact, 16 coalitions; efficient)" in printed and "removal check: Signs agree" in printed
    e = Explanation.from_json(out)
    assert e.estimator == "FSII" and e.meta["shapley"]["exact"] and e.removal_check is not None
    assert abs(e.interactions.sum() - (e.f_input - e.f_baseline)) < 1e-5


def test_dataset_rows_and_corpus_take_a_shapley_explanation(tiny_task_model, tmp_path):
    shapiq_or_skip()
    datasets = require("datasets", "pip install datasets")
    from transformers_ih import CorpusInteractions, explain_dataset
    from transformers_ih.corpus import explanations

    row = ROWS["sequence"]
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    rows = datasets.Dataset.from_dict({"sentence": ["not a good film", "a bad film", "not bad"]})
    out = explain_dataset(ex, rows, output_dir=tmp_path / "run", progress=False, estimator="FSII", check=2)
    got = explanations(out)
    alone = [ex(text, estimator="FSII", check=2) for text in rows["sentence"]]
    for a, b in zip(got, alone):
        assert a.estimator == "FSII" and a.meta["shapley"] == b.meta["shapley"]
        W = len(a.words)
        assert a.removal_check == b.removal_check and len(a.removal_check["pairs"]) == min(2, W * (W - 1) // 2)
        np.testing.assert_allclose(a.interactions, b.interactions, atol=1e-9)
    corpus = CorpusInteractions.from_explanations(got)
    assert corpus.summary(3)  # the pairs of FSII matrices aggregate like any other
