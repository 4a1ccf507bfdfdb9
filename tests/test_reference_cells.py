"""Every (task, architecture) cell of the README's table against the independent brute-force reference of
``tests/reference.py``: the whole interaction matrix, off-diagonal entries included, on float32 models as users run
them (the reference in float64), at the same fixed path rule, so that only the package's own work is compared:
features, baselines, the explained output, the per-feature reduction and the Hessian-vector products."""

from __future__ import annotations

import pytest
import torch
from reference import Reference, assert_matches_reference, brute_force_interactions, word_features
from task_helpers import params

from transformers_ih import (
    CausalLMInteractionExplainer,
    MaskedLMInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    Seq2SeqLMInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TokenClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
)

STEPS = 4
ENCODERS = ["bert", "distilbert", "roberta", "xlm-roberta", "albert", "electra", "deberta-v2", "mpnet", "modernbert"]
NLI = ["contradiction", "neutral", "entailment"]
TEXT, PAIR = "not a good film", ("a man plays", "someone makes music")


def pad_id(tok) -> int:
    return tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id


def explain(explainer_class, model, tok, *args, **kwargs):
    return explainer_class(model, tok, smoothing=None)(*args, steps=STEPS, method="gauss", **kwargs)


def check(model, explanation, ref: Reference) -> None:
    assert explanation.method.startswith("gauss") and explanation.steps == STEPS
    assert explanation.meta["raw_asymmetry"] < 1e-4
    assert_matches_reference(explanation.interactions, brute_force_interactions(model, ref, STEPS))


# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", params(ENCODERS + ["bart"]))
def test_sequence_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch)
    e = explain(SequenceClassificationInteractionExplainer, model, tok, TEXT)
    enc = tok(TEXT, return_tensors="pt")
    check(model, e, Reference(dict(enc), word_features(enc), pad_id(tok), lambda out: out.logits[:, e.target_index]))


@pytest.mark.parametrize("arch", params(ENCODERS + ["bart"]))
def test_pair_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch)
    e = explain(PairClassificationInteractionExplainer, model, tok, *PAIR)
    enc = tok(*PAIR, return_tensors="pt")
    check(model, e, Reference(dict(enc), word_features(enc), pad_id(tok), lambda out: out.logits[:, e.target_index]))


@pytest.mark.parametrize("arch", params(["bert", "xlm-roberta", "modernbert"]))
def test_multilabel_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, labels=["toxic", "insult", "threat"], problem_type="multi_label_classification")
    e = explain(MultiLabelClassificationInteractionExplainer, model, tok, TEXT, labels=["insult"])["insult"]
    enc = tok(TEXT, return_tensors="pt")
    check(model, e, Reference(dict(enc), word_features(enc), pad_id(tok), lambda out: out.logits[:, 1]))


@pytest.mark.parametrize("arch", params(["bert", "roberta", "xlm-roberta", "deberta-v2", "bart"]))
def test_zero_shot_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, labels=NLI)
    text, labels = "the match went to penalties", ["sports", "politics"]
    e = explain(ZeroShotClassificationInteractionExplainer, model, tok, text, labels)["politics"]
    enc = tok(text, "This example is politics.", return_tensors="pt")
    check(model, e, Reference(dict(enc), word_features(enc), pad_id(tok), lambda out: out.logits[:, 2]))


@pytest.mark.parametrize("arch", params(ENCODERS))
def test_token_classification(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "token-classification", labels=["O", "B-PER", "I-PER", "B-LOC"])
    text = "george went to paris"
    e = explain(TokenClassificationInteractionExplainer, model, tok, text, word=3, target="B-LOC")
    enc = tok(text, return_tensors="pt")
    position = enc.word_ids(0).index(3)  # the word's first token
    check(model, e, Reference(dict(enc), word_features(enc), pad_id(tok), lambda out: out.logits[:, position, 3]))


@pytest.mark.parametrize("arch", params(ENCODERS + ["bart"]))
def test_question_answering(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "question-answering")
    question, context = "who wrote it?", "the film was written by george"
    explanations = explain(QuestionAnsweringInteractionExplainer, model, tok, question, context)
    enc = tok(question, context, return_tensors="pt")
    for which, field in (("start", "start_logits"), ("end", "end_logits")):
        e = explanations[which]
        position = e.meta[f"{which}_token"]
        check(
            model,
            e,
            Reference(
                dict(enc), word_features(enc), pad_id(tok), lambda out, f=field, p=position: getattr(out, f)[:, p]
            ),
        )


@pytest.mark.parametrize("arch", params(ENCODERS))
def test_masked_lm(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "masked-lm")
    text = f"a {tok.mask_token} good film"
    e = explain(MaskedLMInteractionExplainer, model, tok, text, target=7)
    enc = tok(text, return_tensors="pt")
    mask = enc["input_ids"][0].tolist().index(tok.mask_token_id)
    features = word_features(enc, held_positions={mask})
    kept = sorted({f for f in features if f >= 0})
    features = [kept.index(f) if f >= 0 else -1 for f in features]  # the mask's word is not a feature
    check(model, e, Reference(dict(enc), features, pad_id(tok), lambda out: out.logits[:, mask, 7]))


def test_causal_lm(tiny_task_model):
    model, tok = tiny_task_model("gpt2", "causal-lm")
    prompt, target = "this film is not", " bad at all"
    e = explain(CausalLMInteractionExplainer, model, tok, prompt, target=target)
    p = tok(prompt)["input_ids"]
    t = tok(target, add_special_tokens=False)["input_ids"]
    enc = tok(prompt, return_tensors="pt")
    features = word_features(enc) + [-1] * len(t)  # the target tokens are fed as they are
    inputs = {"input_ids": torch.tensor([p + t]), "attention_mask": torch.ones(1, len(p) + len(t), dtype=torch.long)}

    def log_probability(out):
        logp = torch.log_softmax(out.logits, -1)
        return sum(logp[:, len(p) - 1 + k, i] for k, i in enumerate(t))

    check(model, e, Reference(inputs, features, tok.eos_token_id, log_probability))


@pytest.mark.parametrize("arch", params(["bart", "t5"]))
def test_seq2seq_lm(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "seq2seq-lm")
    source, target = "this film is not bad", "a good film"
    e = explain(Seq2SeqLMInteractionExplainer, model, tok, source, target=target)
    enc = tok(source, return_tensors="pt")
    labels = tok(text_target=target, return_tensors="pt")["input_ids"]
    check(
        model,
        e,
        Reference(
            {**enc, "labels": labels}, word_features(enc), pad_id(tok), lambda out: (-out.loss * labels.shape[1])[None]
        ),
    )
