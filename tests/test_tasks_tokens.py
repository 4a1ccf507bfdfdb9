"""Token classification, question answering and masked LM on tiny random models of many architectures."""

import numpy as np
import pytest
import torch
from task_helpers import ENCODERS, check_axioms, own_forward, params, restored

from transformers_ih import (
    MaskedLMInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    TokenClassificationInteractionExplainer,
)
from transformers_ih.text.encoding import PAIR_SEPARATOR

NER = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCE = "george washington went to washington"


def first_token_of_words(enc):
    firsts, seen = [], set()
    for pos, w in enumerate(enc.word_ids(0)):
        if w is not None and w not in seen:
            seen.add(w)
            firsts.append(pos)
    return firsts


# ---------------------------------------------------------------- token classification
@pytest.mark.parametrize("arch", params(ENCODERS))
def test_token_classification_word_by_position(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "token-classification", labels=NER)
    ex = TokenClassificationInteractionExplainer(model, tok)
    assert ex.words(SENTENCE) == SENTENCE.split()
    with restored(model):
        e = ex(SENTENCE, word=4)  # the second "washington"
    out, enc = own_forward(model, tok, SENTENCE)
    pos = first_token_of_words(enc)[4]
    logits = out.logits[0, pos]
    assert e.meta["word_index"] == 4 and e.meta["word"] == "washington" and e.meta["token_index"] == pos
    assert e.predicted_label == model.config.id2label[int(logits.argmax())] == e.target
    assert e.predicted_probability == pytest.approx(float(torch.softmax(logits.double(), -1).max()), abs=1e-6)
    assert e.model_value == pytest.approx(float(logits.max()), abs=1e-5)
    assert e.words == SENTENCE.split()
    check_axioms(e)


def test_token_classification_every_word_keyed_by_position(tiny_task_model):
    model, tok = tiny_task_model("bert", "token-classification", labels=NER)
    ex = TokenClassificationInteractionExplainer(model, tok)
    out = ex(SENTENCE, steps=8)
    assert list(out) == [0, 1, 2, 3, 4]
    # the two "washington"s stay distinct: different tokens, different explanations
    assert out[1].meta["token_index"] != out[4].meta["token_index"]
    assert not np.allclose(out[1].attributions, out[4].attributions)
    logits = own_forward(model, tok, SENTENCE)[0].logits[0]
    assert [o.predicted_label for o in out.values()] == out[0].meta["word_labels"]
    chosen = ex(SENTENCE, [3, 1], target="B-LOC", output="probability", steps=8)
    assert list(chosen) == [3, 1] and all(o.target == "B-LOC" for o in chosen.values())
    assert chosen[1].f_input == pytest.approx(
        float(torch.softmax(logits[chosen[1].meta["token_index"]], -1)[3]), abs=1e-6
    )
    assert ex(SENTENCE, word="george", steps=4).meta["word_index"] == 0


def test_token_classification_subword_word_uses_its_first_token(tiny_task_model):
    model, tok = tiny_task_model("bert", "token-classification", labels=NER)
    text = "an unbelievably overwrought mess"
    e = TokenClassificationInteractionExplainer(model, tok)(text, word=2, steps=8)
    enc = tok(text)
    assert e.meta["token_index"] == enc.word_ids().index(2) and enc.word_ids().count(2) > 1
    assert e.words[2] == "overwrought"


# ---------------------------------------------------------------- question answering
QUESTION, CONTEXT = "who wrote the film ?", "the film was written by john smith in paris"


def best_span(start, end, context_positions, max_len=15):
    best, span = -np.inf, None
    for s in context_positions:
        for e in context_positions:
            if s <= e < s + max_len and start[s] + end[e] > best:
                best, span = start[s] + end[e], (s, e)
    return span


@pytest.mark.parametrize("arch", params(ENCODERS + ["bart"]))
def test_question_answering(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "question-answering")
    with restored(model):
        out = QuestionAnsweringInteractionExplainer(model, tok)(QUESTION, CONTEXT)
    own, enc = own_forward(model, tok, QUESTION, CONTEXT)
    start, end = own.start_logits[0].numpy(), own.end_logits[0].numpy()
    seq = enc.sequence_ids(0)
    context_positions = [p for p, sid in enumerate(seq) if sid == 1]
    s, e = best_span(start, end, context_positions)
    offsets = tok(QUESTION, CONTEXT, return_offsets_mapping=True)["offset_mapping"]
    answer = CONTEXT[offsets[s][0] : offsets[e][1]].strip()
    assert set(out) == {"start", "end"}
    for which, position, logits in (("start", s, start), ("end", e, end)):
        x = out[which]
        assert x.target_index == position and x.meta[f"{which}_token"] == position
        assert x.model_value == pytest.approx(float(logits[position]), abs=1e-5)  # fixed position, own logit
        assert x.predicted_label.strip() == answer
        assert CONTEXT[x.meta["answer_start"] : x.meta["answer_end"]] == x.meta["answer"]
        assert x.text == QUESTION + PAIR_SEPARATOR + CONTEXT
        n_q = len(QUESTION.split())
        assert x.words == QUESTION.split() + CONTEXT.split() and x.word_groups == [0] * n_q + [1] * len(CONTEXT.split())
        assert np.abs(x.interactions[:n_q, n_q:]).max() > 0  # question x context
        check_axioms(x)


def test_question_answering_max_answer_len(tiny_task_model):
    model, tok = tiny_task_model("bert", "question-answering")
    out = QuestionAnsweringInteractionExplainer(model, tok)(QUESTION, CONTEXT, max_answer_len=1, steps=4)
    assert out["start"].meta["start_token"] == out["end"].meta["end_token"]


# ---------------------------------------------------------------- masked LM
@pytest.mark.parametrize("arch", params(ENCODERS))
def test_masked_lm(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "masked-lm")
    text = f"this film is {tok.mask_token} at all"
    with restored(model):
        e = MaskedLMInteractionExplainer(model, tok)(text)
    out, enc = own_forward(model, tok, text)
    pos = int((enc["input_ids"][0] == tok.mask_token_id).nonzero()[0, 0])
    logits = out.logits[0, pos]
    assert e.target_index == int(logits.argmax()) and e.target == tok.convert_ids_to_tokens(e.target_index)
    assert e.model_value == pytest.approx(float(logits.max()), abs=1e-5)
    assert e.meta["mask_token_index"] == pos
    assert e.words == ["this", "film", "is", "at", "all"]  # the mask is not a feature
    check_axioms(e)


def test_masked_lm_targets_and_outputs(tiny_task_model):
    model, tok = tiny_task_model("bert", "masked-lm")
    ex = MaskedLMInteractionExplainer(model, tok)
    text = f"paris is the {tok.mask_token} of france."
    logits = own_forward(model, tok, text)[0].logits[0]
    pos = tok(text)["input_ids"].index(tok.mask_token_id)
    by_word = ex(text, "capital", output="log_probability", steps=8)
    index = tok.convert_tokens_to_ids("capital")
    assert by_word.target == "capital" and by_word.target_index == index
    assert by_word.f_input == pytest.approx(float(torch.log_softmax(logits[pos], -1)[index]), abs=1e-5)
    by_id = ex(text, index, output="log_probability", steps=8)
    np.testing.assert_allclose(by_id.interactions, by_word.interactions)
    prob = ex(text, "capital", output="probability", steps=8)
    assert prob.f_input == pytest.approx(float(torch.softmax(logits[pos], -1)[index]), abs=1e-6)
    assert by_word.words == ["paris", "is", "the", "of", "france", "."]


def test_masked_lm_byte_level_target_with_space(tiny_task_model):
    model, tok = tiny_task_model("roberta", "masked-lm")
    ex = MaskedLMInteractionExplainer(model, tok)
    text = f"this film is {tok.mask_token}."
    e = ex(text, " good", steps=4)
    assert e.target == "Ġgood" and ex(text, "Ġgood", steps=4).target_index == e.target_index
