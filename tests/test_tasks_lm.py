"""Causal LM (GPT-2) and sequence-to-sequence (T5, BART) scoring of a target continuation."""

import pytest
import torch
from task_helpers import check_axioms, own_forward, params, restored

from transformers_ih import CausalLMInteractionExplainer, Seq2SeqLMInteractionExplainer

PROMPT, TARGET = "this film is not", " bad at all"


def continuation_log_probability(model, tok, prompt, target):
    """log p(target | prompt) from the model's own forward pass on the concatenated ids."""
    p = tok(prompt)["input_ids"]
    t = tok(target, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model.eval()(input_ids=torch.tensor([p + t], device=model.device)).logits[0]
    logp = torch.log_softmax(logits.double(), -1)
    return float(sum(logp[len(p) - 1 + k, i] for k, i in enumerate(t))), logp[len(p) - 1]


def test_causal_lm_gpt2(tiny_task_model):
    model, tok = tiny_task_model("gpt2", "causal-lm")
    assert tok.pad_token is None  # GPT-2: the baseline falls back to EOS
    with restored(model):
        e = CausalLMInteractionExplainer(model, tok)(PROMPT, TARGET)
    expected, next_logp = continuation_log_probability(model, tok, PROMPT, TARGET)
    assert e.model_value == pytest.approx(expected, abs=1e-4) and e.output == "log_probability"
    assert e.meta["target_log_probability"] == pytest.approx(expected, abs=1e-6)
    assert e.words == PROMPT.split()  # only prompt words are features
    target_ids = tok(TARGET, add_special_tokens=False)["input_ids"]
    assert e.tokens[-len(target_ids) :] == tok.convert_ids_to_tokens(target_ids) == e.meta["target_tokens"]
    assert e.baseline == "eos" and e.target == TARGET
    assert e.predicted_label == tok.decode([int(next_logp.argmax())])
    check_axioms(e)


def test_causal_lm_baseline_override_and_single_token(tiny_task_model):
    model, tok = tiny_task_model("gpt2", "causal-lm")
    ex = CausalLMInteractionExplainer(model, tok, baseline="zero")
    e = ex(PROMPT, " bad", steps=8)
    assert e.baseline == "zero" and len(e.meta["target_token_ids"]) == 1
    assert e.model_value == pytest.approx(continuation_log_probability(model, tok, PROMPT, " bad")[0], abs=1e-4)
    assert ex(PROMPT, " bad", baseline=tok.eos_token_id, steps=8).f_baseline == pytest.approx(
        CausalLMInteractionExplainer(model, tok)(PROMPT, " bad", steps=8).f_baseline, abs=1e-6
    )


@pytest.mark.parametrize("arch", params(["t5", "bart"]))
def test_seq2seq_target_scoring(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "seq2seq-lm")
    source, target = "this film is not bad", "a good film"
    with restored(model):
        e = Seq2SeqLMInteractionExplainer(model, tok)(source, target)
    labels = tok(text_target=target, return_tensors="pt")["input_ids"]
    loss = own_forward(model, tok, source, labels=labels)[0].loss
    assert e.model_value == pytest.approx(-float(loss) * labels.shape[1], abs=1e-4)
    assert e.words == source.split() and e.meta["target_token_ids"] == labels[0].tolist()
    check_axioms(e)
