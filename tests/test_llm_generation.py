"""Explaining what the model generates (issue 13.2): ``target=None`` generates the continuation with the model's own
``generate`` (greedy by default) and explains its log-probability; ``per_token=True`` explains each token."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from llm_models import own_log_probability, tiny_llm
from task_helpers import check_axioms, own_forward, restored

from transformers_ih import CausalLMInteractionExplainer, Seq2SeqLMInteractionExplainer

PROMPT = "this film is not bad"


def greedy(model, tok, prompt_ids, n, **kwargs):
    """``model.generate``'s new tokens after ``prompt_ids`` (greedy, ``n`` at most)."""
    kwargs.setdefault("do_sample", False)
    if tok.pad_token_id is None:
        kwargs.setdefault("pad_token_id", tok.eos_token_id)
    ids = torch.tensor([prompt_ids], device=model.device)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, **kwargs)
    return out[0, len(prompt_ids) :].tolist()


@pytest.mark.parametrize("arch", ["llama", "gemma2"])
def test_generated_continuation_is_generates_and_explained(arch):
    model, tok = tiny_llm(arch)
    explainer = CausalLMInteractionExplainer(model, tok)
    with restored(model):
        e = explainer(PROMPT, max_new_tokens=5)
    prompt_ids = tok(PROMPT)["input_ids"]
    generated = greedy(model, tok, prompt_ids, 5)
    assert e.meta["target_token_ids"] == generated and e.meta["generated"]
    assert e.target == e.meta["generated_text"] == tok.decode(generated, skip_special_tokens=True)
    assert e.tokens[-len(generated) :] == tok.convert_ids_to_tokens(generated) == e.meta["target_tokens"]
    expected, per_token = own_log_probability(model, prompt_ids, generated)
    assert e.model_value == pytest.approx(expected, abs=1e-4)
    np.testing.assert_allclose(e.meta["token_log_probabilities"], per_token, atol=1e-6)
    assert e.words == PROMPT.split() and e.target_kind == "continuation"
    check_axioms(e)
    # the recorded call holds the tokens: coalition values re-evaluate exactly this continuation
    assert e.meta["call"]["inputs"]["target"] == {"token_ids": generated}
    values = explainer.coalition_values(e, np.array([[True] * 5, [False] * 5]))
    np.testing.assert_allclose(values, [e.f_input, e.f_baseline], atol=1e-5)
    # the same tokens given as ids give the same explanation
    again = explainer(PROMPT, target={"token_ids": generated})
    np.testing.assert_allclose(again.interactions, e.interactions, atol=1e-6)


def test_generated_answer_to_a_chat_and_sampling_kwargs():
    model, tok = tiny_llm("qwen2")
    messages = [{"role": "user", "content": "Is this film not bad at all?"}]
    explainer = CausalLMInteractionExplainer(model, tok)
    e = explainer(messages=messages, max_new_tokens=4, steps=8)
    ids = list(tok.apply_chat_template(messages, add_generation_prompt=True)["input_ids"])
    assert e.meta["target_token_ids"] == greedy(model, tok, ids, 4)
    assert e.model_value == pytest.approx(own_log_probability(model, ids, e.meta["target_token_ids"])[0], abs=1e-4)
    # the user's generation_kwargs: sampling, seeded
    torch.manual_seed(3)
    sampled = explainer(PROMPT, max_new_tokens=6, generation_kwargs={"do_sample": True, "top_k": 50}, steps=4)
    torch.manual_seed(3)
    reference = greedy(model, tok, tok(PROMPT)["input_ids"], 6, do_sample=True, top_k=50)
    assert sampled.meta["target_token_ids"] == reference
    assert sampled.meta["call"]["inputs"]["target"] == {"token_ids": reference}
    assert "generation_kwargs" not in sampled.meta["call"]["arguments"]


def test_per_token_explanations():
    """One explanation per generated token, each of log p(token_k | prompt, earlier tokens): its value is the
    model's own log-probability of that token, and (IH is linear in the explained function, same path rule) the
    per-token explanations add up to the whole continuation's."""
    model, tok = tiny_llm("mistral")
    explainer = CausalLMInteractionExplainer(model, tok)
    whole = explainer(PROMPT, max_new_tokens=4, steps=8)
    tokens = explainer(PROMPT, max_new_tokens=4, steps=8, per_token=True)
    ids = whole.meta["target_token_ids"]
    assert isinstance(tokens, list) and len(tokens) == len(ids) == 4
    _, per_token = own_log_probability(model, tok(PROMPT)["input_ids"], ids)
    for k, e in enumerate(tokens):
        assert e.target_kind == "token" and e.target_index == ids[k] and e.meta["token_position"] == k
        assert e.target == tok.decode([ids[k]]) and e.words == whole.words
        assert e.model_value == pytest.approx(per_token[k], abs=1e-4)
        assert e.meta["token_log_probability"] == pytest.approx(per_token[k], abs=1e-6)
    np.testing.assert_allclose(sum(e.interactions for e in tokens), whole.interactions, atol=1e-4)
    np.testing.assert_allclose(sum(e.attributions for e in tokens), whole.attributions, atol=1e-4)
    assert sum(e.f_input for e in tokens) == pytest.approx(whole.f_input, abs=1e-4)
    # a later token's explanation is replayed by its position (coalition values)
    last = tokens[-1]
    values = explainer.coalition_values(last, np.array([[True] * len(last.words), [False] * len(last.words)]))
    np.testing.assert_allclose(values, [last.f_input, last.f_baseline], atol=1e-5)
    # per-token with a given target, and for many prompts: a list per prompt
    given = explainer([PROMPT, "a bad film"], target=" at all", per_token=True, steps=4)
    assert [len(x) for x in given] == [2, 2] and given[1][1].target == tok.decode(
        tok(" at all", add_special_tokens=False)["input_ids"][1:]
    )


@pytest.mark.parametrize("arch", ["t5", "bart"])
def test_seq2seq_generated_target(tiny_task_model, arch):
    model, tok = tiny_task_model(arch, "seq2seq-lm")
    source = "this film is not bad"
    explainer = Seq2SeqLMInteractionExplainer(model, tok)
    e = explainer(source, max_new_tokens=4, steps=8)
    enc = tok(source, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=4, do_sample=False)
    generated = out[0, 1:].tolist()
    assert e.meta["target_token_ids"] == generated and e.meta["generated"]
    labels = torch.tensor([generated], device=model.device)
    loss = own_forward(model, tok, source, labels=labels)[0].loss
    assert e.model_value == pytest.approx(-float(loss) * len(generated), abs=1e-4)
    tokens = explainer(source, max_new_tokens=4, steps=8, per_token=True)
    assert sum(t.model_value for t in tokens) == pytest.approx(e.model_value, abs=1e-4)


def test_generation_bad_input():
    model, tok = tiny_llm("llama")
    explainer = CausalLMInteractionExplainer(model, tok)
    with pytest.raises(ValueError, match="max_new_tokens must be a positive"):
        explainer(PROMPT, max_new_tokens=0)
    with pytest.raises(ValueError, match="num_return_sequences must be 1"):
        explainer(PROMPT, generation_kwargs={"num_return_sequences": 2, "num_beams": 2})
    with pytest.raises(ValueError, match="given by the explainer"):
        explainer(PROMPT, generation_kwargs={"input_ids": None})
    with pytest.raises(ValueError, match="generation_kwargs apply when the target is generated"):
        explainer(PROMPT, target=" bad", generation_kwargs={"do_sample": True})
    with pytest.raises(ValueError, match="not a token of the vocabulary"):
        explainer(PROMPT, target={"token_ids": [10**9]})
    with pytest.raises(ValueError, match=r"must be \{'token_ids'"):
        explainer(PROMPT, target={"ids": [1]})
    with pytest.raises(TypeError, match="per_token must be True or False"):
        explainer(PROMPT, target=" bad", per_token="yes")
