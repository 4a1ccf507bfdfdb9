"""Sequence, pair, multi-label and zero-shot classification on tiny random models of many architectures."""

import numpy as np
import pytest
import torch
from task_helpers import ENCODERS, check_axioms, own_forward, params, restored
from transformers import pipeline

from transformers_ih import (
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
)
from transformers_ih.text.encoding import PAIR_SEPARATOR

TEXT = "this film is not bad at all"
PREMISE, HYPOTHESIS = "a man plays a guitar on stage", "a person makes music"
NLI = ["contradiction", "neutral", "entailment"]


# ---------------------------------------------------------------- sequence classification, more architectures
@pytest.mark.parametrize(
    "arch", params(["xlm-roberta", "albert", "electra", "deberta-v2", "mpnet", "modernbert", "bart"])
)
def test_sequence_classification_architectures(tiny_task_model, arch):
    model, tok = tiny_task_model(arch)
    with restored(model):
        e = SequenceClassificationInteractionExplainer(model, tok)(TEXT)
    logits = own_forward(model, tok, TEXT)[0].logits[0]
    assert e.predicted_label == model.config.id2label[int(logits.argmax())]
    assert e.model_value == pytest.approx(float(logits[e.target_index]), abs=1e-5)
    assert e.words == TEXT.split()
    check_axioms(e)


# ---------------------------------------------------------------- pairs
@pytest.mark.parametrize("arch", params(ENCODERS + ["bart"]))
def test_pair_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch)
    with restored(model):
        e = PairClassificationInteractionExplainer(model, tok)(PREMISE, HYPOTHESIS)
    logits = own_forward(model, tok, PREMISE, HYPOTHESIS)[0].logits[0]
    probs = torch.softmax(logits.double(), -1)
    assert e.predicted_label == model.config.id2label[int(probs.argmax())]
    assert e.predicted_probability == pytest.approx(float(probs.max()), abs=1e-6)
    assert e.model_value == pytest.approx(float(logits[e.target_index]), abs=1e-5)
    # both texts on one axis, first then second, with a visible separator
    assert e.text == PREMISE + PAIR_SEPARATOR + HYPOTHESIS and e.separator == PAIR_SEPARATOR
    n1, n2 = len(PREMISE.split()), len(HYPOTHESIS.split())
    assert e.words == PREMISE.split() + HYPOTHESIS.split()
    assert e.word_groups == [0] * n1 + [1] * n2
    assert np.abs(e.interactions[:n1, n1:]).max() > 0  # cross-sentence interactions
    check_axioms(e)


def test_pair_lists_targets_and_fixed_rule(tiny_task_model):
    model, tok = tiny_task_model("bert")
    ex = PairClassificationInteractionExplainer(model, tok)
    out = ex([PREMISE, "good"], [HYPOTHESIS, "bad"], target="POSITIVE", steps=8)
    assert [o.words for o in out] == [PREMISE.split() + HYPOTHESIS.split(), ["good", "bad"]]
    assert all(o.target == "POSITIVE" and o.method == "gauss(8)" for o in out)
    with pytest.raises(ValueError, match="same length"):
        ex([PREMISE], [HYPOTHESIS, "x"])


# ---------------------------------------------------------------- multi-label
ML_LABELS = ["toxic", "insult", "threat"]


@pytest.mark.parametrize("arch", params(["bert", "xlm-roberta", "modernbert"]))
def test_multilabel_every_label(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, labels=ML_LABELS, problem_type="multi_label_classification")
    text = "you are a stupid idiot"
    with restored(model):
        out = MultiLabelClassificationInteractionExplainer(model, tok)(text)
    probs = torch.sigmoid(own_forward(model, tok, text)[0].logits[0].double())
    assert list(out) == ML_LABELS
    predicted = [ML_LABELS[i] for i in range(3) if probs[i] >= 0.5]
    for i, (label, e) in enumerate(out.items()):
        assert e.target == label and e.target_index == i
        assert e.meta["probability"] == pytest.approx(float(probs[i]), abs=1e-6)
        assert e.predicted_label == (label if probs[i] >= 0.5 else f"not {label}")
        assert e.meta["predicted_labels"] == predicted
        check_axioms(e)
    assert len({e.f_input for e in out.values()}) == 3  # each label's own logit


def test_multilabel_subsets_and_outputs(tiny_task_model):
    model, tok = tiny_task_model("bert", labels=ML_LABELS, problem_type="multi_label_classification")
    ex = MultiLabelClassificationInteractionExplainer(model, tok, threshold=0.0)
    text = "you are a stupid idiot"
    logits = own_forward(model, tok, text)[0].logits[0]
    sub = ex(text, ["threat", 0], output="probability", steps=8)
    assert list(sub) == ["toxic", "threat"]
    assert sub["threat"].f_input == pytest.approx(float(torch.sigmoid(logits[2])), abs=1e-6)
    assert set(ex(text, "predicted", steps=4)) == set(ML_LABELS)  # threshold 0: every label is on
    assert MultiLabelClassificationInteractionExplainer(model, tok, threshold=1.01)(text, "predicted") == {}
    logp = ex(text, "insult", output="log_probability", steps=8)["insult"]
    assert logp.f_input == pytest.approx(float(torch.nn.functional.logsigmoid(logits[1])), abs=1e-6)


# ---------------------------------------------------------------- zero-shot
LABELS = ["sports", "politics", "science fiction"]
STORY = "the match went to penalties after extra time"


@pytest.mark.parametrize("arch", params(["bert", "roberta", "xlm-roberta", "deberta-v2", "bart"]))
def test_zero_shot_matches_the_pipeline(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, labels=NLI)
    with restored(model):
        out = ZeroShotClassificationInteractionExplainer(model, tok)(STORY, LABELS)
    reference = pipeline("zero-shot-classification", model=model, tokenizer=tok)(STORY, LABELS)
    expected = dict(zip(reference["labels"], reference["scores"]))
    assert list(out) == LABELS
    for label, e in out.items():
        assert e.meta["scores"] == pytest.approx(expected, abs=1e-6)
        assert e.predicted_label == reference["labels"][0]
        assert e.predicted_probability == pytest.approx(reference["scores"][0], abs=1e-6)
        # explained: this label's entailment logit, the model's own
        logits = own_forward(model, tok, STORY, f"This example is {label}.")[0].logits[0]
        assert e.model_value == pytest.approx(float(logits[2]), abs=1e-5)
        # text x label words: both texts are features, the label's words are marked
        n_text = len(STORY.split())
        assert e.word_groups[:n_text] == [0] * n_text and set(e.word_groups[n_text:]) == {1}
        label_words = e.meta["label_words"]
        joined = " ".join(e.words[w] for w in label_words)  # "science fiction", or "fiction." split by whitespace
        assert joined.startswith(label) and len(joined) <= len(label) + 1
        assert label_words == list(range(label_words[0], label_words[-1] + 1))
        assert np.abs(e.interactions[np.ix_(range(n_text), e.meta["label_words"])]).max() > 0
        check_axioms(e)


@pytest.mark.parametrize("arch", params(["bert", "bart"]))
def test_zero_shot_multi_label_and_one_label_match_the_pipeline(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, labels=NLI)
    ex = ZeroShotClassificationInteractionExplainer(model, tok)
    zsc = pipeline("zero-shot-classification", model=model, tokenizer=tok)
    template = "The topic is {}."
    out = ex(STORY, "sports, politics", template, multi_label=True, steps=8)
    reference = zsc(STORY, ["sports", "politics"], hypothesis_template=template, multi_label=True)
    assert out["sports"].meta["scores"] == pytest.approx(dict(zip(reference["labels"], reference["scores"])), abs=1e-6)
    # multi-label explains entailment - contradiction, whose sigmoid is the label's score
    e = out["politics"]
    assert 1 / (1 + np.exp(-e.model_value)) == pytest.approx(e.meta["score"], abs=1e-6)
    assert e.meta["hypothesis"] == "The topic is politics." and e.meta["explained"].startswith("entailment -")
    one = ex(STORY, ["sports"], steps=8)["sports"]
    assert one.meta["score"] == pytest.approx(zsc(STORY, ["sports"])["scores"][0], abs=1e-6)


def test_zero_shot_with_entailment_first(tiny_task_model):
    labels = ["entailment", "neutral", "contradiction"]
    model, tok = tiny_task_model("bert", labels=labels)
    ex = ZeroShotClassificationInteractionExplainer(model, tok)
    assert (ex.entailment_id, ex.contradiction_id) == (0, 2)
    out = ex(STORY, LABELS, steps=4)
    reference = pipeline("zero-shot-classification", model=model, tokenizer=tok)(STORY, LABELS)
    assert out["sports"].meta["scores"] == pytest.approx(dict(zip(reference["labels"], reference["scores"])), abs=1e-6)


def test_encoder_decoder_classifier_in_train_mode_is_restored(tiny_task_model):
    """BART's classification runs through its decoder and EOS head; dropout is off during the call, and the
    training flags come back as they were."""
    model, tok = tiny_task_model("bart")
    reference = SequenceClassificationInteractionExplainer(model, tok)(TEXT, target=1, steps=8)
    model.train()  # dropout 0.1 would change the outputs if it stayed on
    try:
        with restored(model):
            e = SequenceClassificationInteractionExplainer(model, tok)(TEXT, target=1, steps=8)
        assert all(m.training for m in model.modules())
    finally:
        model.eval()
    np.testing.assert_allclose(e.interactions, reference.interactions, atol=1e-10)


def test_encoder_decoder_texts_batched_equal_one_at_a_time(tiny_task_model):
    """Texts of different lengths explained together (padded): each row's own last EOS feeds BART's head."""
    model, tok = tiny_task_model("bart")
    ex = PairClassificationInteractionExplainer(model, tok)
    firsts, seconds = ["good", PREMISE], ["a fine film indeed", "music"]
    together = ex(firsts, seconds, target=0, steps=8)
    for a, b, e in zip(firsts, seconds, together):
        alone = ex(a, b, target=0, steps=8)
        assert e.model_value == pytest.approx(alone.model_value, abs=1e-5)
        np.testing.assert_allclose(e.interactions, alone.interactions, atol=1e-5 * np.abs(alone.interactions).max())
