"""Faithfulness on tiny random models: ``explainer.coalition_values`` against a loop written here (token ids
replaced by the pad token, the model's own forward), the recorded call (JSON round trip, expected baselines, pair
inputs, custom outputs, tensor baselines), batching, bad input, and the metrics and report on a real explanation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explanation_factory import make_explanation
from tiny_models import DEVICE

from transformers_ih import (
    Explanation,
    PairClassificationInteractionExplainer,
    SequenceClassificationInteractionExplainer,
)
from transformers_ih.evaluate import attribution_faithfulness, interaction_faithfulness, random_coalitions

TEXT = "this film <b>is</b> not bad at all"


@pytest.fixture(scope="module")
def classifier(tiny_task_model):
    model, tok = tiny_task_model("bert")
    explainer = SequenceClassificationInteractionExplainer(model, tok, progress=False, internal_batch_size=3)
    return model, tok, explainer, explainer(TEXT)


def loop_values(model, tok, text, masks, target, pair=None):
    """The target's logit with the words absent from each coalition replaced, token by token, by the pad token's
    embedding (the "pad" baseline), special tokens untouched; one model call per coalition, on ``inputs_embeds``
    (pad *ids* would move RoBERTa's position ids)."""
    enc = tok(text, pair, return_tensors="pt") if pair is not None else tok(text, return_tensors="pt")
    word_ids, sequence_ids = enc.word_ids(0), enc.sequence_ids(0)
    keys = list(dict.fromkeys((s, w) for s, w in zip(sequence_ids, word_ids) if w is not None))
    out = []
    for mask in masks:
        ids = enc["input_ids"].clone()
        for pos, (s, w) in enumerate(zip(sequence_ids, word_ids)):
            if w is not None and not mask[keys.index((s, w))]:
                ids[0, pos] = tok.pad_token_id
        inputs = {k: v.to(DEVICE) for k, v in enc.items() if k != "input_ids"}
        with torch.no_grad():
            embeds = model.get_input_embeddings()(ids.to(DEVICE))
            out.append(float(model(inputs_embeds=embeds, **inputs).logits[0, target]))
    return np.array(out)


def test_coalition_values_equal_a_loop_over_token_ids(classifier):
    model, tok, explainer, e = classifier
    W = len(e.words)
    masks = np.concatenate([np.ones((1, W), bool), np.zeros((1, W), bool), random_coalitions(W, 7, seed=1)])
    sizes = []
    hook = model.register_forward_pre_hook(
        lambda module, args, kwargs: sizes.append(
            next(v.shape[0] for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor))
        ),
        with_kwargs=True,
    )
    try:
        values = explainer.coalition_values(e, masks)
    finally:
        hook.remove()
    reference = loop_values(model, tok, TEXT, masks, e.target_index)
    np.testing.assert_allclose(values, reference, atol=1e-5)
    assert values[0] == pytest.approx(e.f_input, abs=1e-5) and values[1] == pytest.approx(e.f_baseline, abs=1e-5)
    assert sizes and max(sizes) <= explainer.internal_batch_size  # batched by internal_batch_size (9 rows: 3 calls)
    # the removal scheme keeps special tokens: the empty coalition is [CLS] [PAD] ... [PAD] [SEP]
    ids = tok(TEXT, return_tensors="pt")["input_ids"]
    ids[0, 1:-1] = tok.pad_token_id
    with torch.no_grad():
        empty = float(model(input_ids=ids.to(DEVICE)).logits[0, e.target_index])
    assert values[1] == pytest.approx(empty, abs=1e-5)
    probs = explainer.coalition_values(e, masks, output="probability")
    logits = np.stack([loop_values(model, tok, TEXT, masks, c) for c in range(2)], axis=1)
    expected = np.exp(logits[:, e.target_index]) / np.exp(logits).sum(axis=1)
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert explainer.coalition_values(e, np.zeros((0, W), bool)).shape == (0,)


def test_recorded_call_survives_json_and_covers_pairs_expected_and_custom(tiny_task_model, classifier):
    _, _, explainer, e = classifier
    assert e.meta["call"]["inputs"] == {"text": TEXT} and e.meta["call"]["baseline"] == "pad"
    loaded = Explanation.from_json(e.to_json())
    full = np.ones((1, len(e.words)), bool)
    assert explainer.coalition_values(loaded, full)[0] == pytest.approx(e.f_input, abs=1e-5)
    # a pair task: words of both texts are features
    rmodel, rtok = tiny_task_model("roberta")
    pair = PairClassificationInteractionExplainer(rmodel, rtok, progress=False)
    p = pair("a man plays a guitar", "someone makes music", interactions=False)
    masks = np.array([np.ones(len(p.words), bool), np.zeros(len(p.words), bool), np.arange(len(p.words)) % 2 == 0])
    values = pair.coalition_values(p, masks)
    assert values[:2] == pytest.approx([p.f_input, p.f_baseline], abs=1e-5)
    assert values[2] == pytest.approx(
        loop_values(rmodel, rtok, "a man plays a guitar", masks[2:], p.target_index, pair="someone makes music")[0],
        abs=1e-5,
    )
    # expected baselines: the mean over the explanation's own K seeded baselines
    model, tok, _, _ = classifier
    expected = SequenceClassificationInteractionExplainer(model, tok, baseline="expected", background=3, progress=False)
    x = expected([TEXT, "awful"])[0]  # (interactions=False with expected baselines fails in expected_baseline.py)
    ends = expected.coalition_values(x, np.array([np.ones(len(x.words)), np.zeros(len(x.words))], dtype=bool))
    assert ends == pytest.approx([x.f_input, x.f_baseline], abs=1e-5)
    # a custom output cannot be recorded: pass the same function
    margin = lambda out: out.logits[:, 1] - out.logits[:, 0]  # noqa: E731
    c = explainer(TEXT, output=margin, interactions=False)
    with pytest.raises(ValueError, match="pass output=<the same function>"):
        explainer.coalition_values(c, full)
    assert explainer.coalition_values(c, full, output=margin)[0] == pytest.approx(c.f_input, abs=1e-5)
    # nor a tensor baseline
    base = torch.zeros(model.get_input_embeddings().weight.shape[1], device=DEVICE)
    t = explainer(TEXT, baseline=base, interactions=False)
    with pytest.raises(ValueError, match="pass baseline=<the same tensor>"):
        explainer.coalition_values(t, full)
    empty = np.zeros_like(full)
    assert explainer.coalition_values(t, empty, baseline=base)[0] == pytest.approx(t.f_baseline, abs=1e-5)


def test_coalition_values_bad_input(tiny_task_model, classifier):
    model, tok, explainer, e = classifier
    W = len(e.words)
    with pytest.raises(ValueError, match=r"no meta\['call'\].*Explain the text again"):
        explainer.coalition_values(make_explanation(["a", "b"]), np.ones((1, 2), bool))
    with pytest.raises(ValueError, match="made by SequenceClassificationInteractionExplainer, not Pair"):
        PairClassificationInteractionExplainer(model, tok).coalition_values(e, np.ones((1, W), bool))
    with pytest.raises(ValueError, match=rf"expected \(M, {W}\)"):
        explainer.coalition_values(e, np.ones((2, W + 1), bool))
    with pytest.raises(ValueError, match="pass a 2-d array"):
        explainer.coalition_values(e, np.ones(W, bool))
    with pytest.raises(ValueError, match="boolean"):
        explainer.coalition_values(e, np.full((1, W), 0.5))
    edited = Explanation.from_dict({**e.to_dict(), "target": "NEGATIVE" if e.target == "POSITIVE" else "POSITIVE"})
    with pytest.raises(ValueError, match="no longer give this explanation's input and target"):
        explainer.coalition_values(edited, np.ones((1, W), bool))
    with pytest.raises(ValueError, match="output must be one of"):
        explainer.coalition_values(e, np.ones((1, W), bool), output="odds")


def test_faithfulness_of_a_model_explanation_and_its_report(classifier):
    _, _, explainer, e = classifier
    W = len(e.words)
    attr = attribution_faithfulness(explainer, e, output="probability")
    assert attr.output == "probability" and attr.f_input == pytest.approx(e.predicted_probability, abs=1e-6)
    assert attr.evaluations <= 2 * W + 2 * len(attr.aopc.sizes)
    np.testing.assert_allclose(attr.curves.deletion[0], attr.f_input) and attr.curves.insertion[-1] == attr.f_input
    inter = interaction_faithfulness(explainer, e, k=3, coalitions=25, seed=2)
    assert inter.evaluations <= 1 + W + 3 + 25 and inter.output == "logit"
    np.testing.assert_allclose(
        inter.fidelity.values, explainer.coalition_values(e, inter.fidelity.coalitions), atol=1e-9
    )
    np.testing.assert_array_equal(inter.fidelity.coalitions, random_coalitions(W, 25, seed=2))
    # exact at the ends: the surrogates reproduce f(x') and f(x) (completeness)
    ends = np.array([np.zeros(W), np.ones(W)], dtype=bool)
    from transformers_ih.evaluate import second_order_surrogate

    assert second_order_surrogate(ends, e.interactions, e.f_baseline) == pytest.approx(
        [e.f_baseline, e.f_input], abs=5 * e.completeness_error + 1e-9
    )
    html = e.to_html(evaluation=[attr, inter])
    assert "How faithful is it? Attributions" in html and "How faithful is it? Interactions" in html
    assert "<b>is</b>" not in html and "&lt;" in html  # the words "<", "b", ">" ... each escaped


def _task_rows():
    from test_task_table import TABLE

    return [pytest.param(row, id=row.id) for row in TABLE]


@pytest.mark.parametrize("row", _task_rows())
def test_every_task_evaluates_its_own_explained_output(row, tiny_task_model):
    """Any text task: the recorded call rebuilds the explained output, so the full coalition gives f(x) and the
    empty one f(x'), for every explanation of one input (dict results: each label's / token's)."""
    model, tok = row.model(tiny_task_model)
    explainer = row.explainer(model, tok, progress=False)
    result = explainer(*row.single, **row.kwargs, interactions=False)
    explanations = list(result.values()) if isinstance(result, dict) else [result]
    for e in explanations:
        W = len(e.words)
        values = explainer.coalition_values(e, np.array([np.ones(W), np.zeros(W)], dtype=bool))
        assert values == pytest.approx([e.f_input, e.f_baseline], abs=1e-5), (row.id, e.target)
