"""Chat prompts (issue 13.1): ``explainer(messages=[...], target=...)`` renders the prompt with the tokenizer's own
chat template, and only the contents of the chosen messages are features (template and role tokens held)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from llm_models import own_log_probability, tiny_llm
from task_helpers import check_axioms, restored

from transformers_ih import CausalLMInteractionExplainer

SYSTEM = "You are a film critic."
USER = "Is this film not bad at all?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]


def chat_ids(tok, messages):
    out = tok.apply_chat_template(messages, add_generation_prompt=True)
    return list(out["input_ids"] if hasattr(out, "keys") else out)


def content_positions(tok, text: str, contents: list[str]) -> list[int]:
    """Token positions (of ``text`` tokenized as apply_chat_template does) whose characters, without leading
    whitespace, lie inside one of ``contents`` (found in order): the tokens a chat explanation moves."""
    regions, pos = [], 0
    for content in contents:
        at = text.index(content.strip(), pos)
        regions.append((at, at + len(content.strip())))
        pos = at + len(content.strip())
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for k, (s, e) in enumerate(enc["offset_mapping"]):
        while s < e and text[s].isspace():
            s += 1
        if s < e and any(lo <= s and e <= hi for lo, hi in regions):
            out.append(k)
    return out


@pytest.mark.parametrize("arch", ["llama", "mistral", "gemma2"])
def test_chat_tokens_features_and_values(arch):
    """Llama 3 (byte-level, headers, ``| trim``), Mistral ([INST], the system message merged into the user turn),
    Gemma 2 (SentencePiece, the "model" role): the prompt's tokens are apply_chat_template's, words are the
    contents' words with spans into their message, f(x) is the model's own log-probability, f(x') the model with
    exactly the content tokens replaced by the baseline token (template tokens held), and the axioms hold."""
    model, tok = tiny_llm(arch)
    explainer = CausalLMInteractionExplainer(model, tok)
    with restored(model):
        e = explainer(messages=MESSAGES, target="Yes")
    ids, target = chat_ids(tok, MESSAGES), tok("Yes", add_special_tokens=False)["input_ids"]
    assert e.text == tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert e.tokens == tok.convert_ids_to_tokens(ids + target)
    assert e.level == "word" and e.meta["chat"] and e.meta["roles"] == ["system", "user"]
    contents = [SYSTEM, USER]
    for word, (i, s, t) in zip(e.words, e.meta["message_offsets"]):
        assert contents[i][s:t] == word
    for i, content in enumerate(contents):  # every character of each content, in words of that message
        words = [w for w, m in zip(e.words, e.meta["feature_messages"]) if m == i]
        assert "".join(words) == content.replace(" ", "")
    expected, _ = own_log_probability(model, ids, target)
    assert e.model_value == pytest.approx(expected, abs=1e-4)
    assert e.meta["target_log_probability"] == pytest.approx(expected, abs=1e-6)
    # the baseline: content tokens -> the baseline token, template tokens as they are
    base_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    moved = content_positions(tok, e.text, contents)
    base_ids = [base_id if k in moved else t for k, t in enumerate(ids)]
    assert e.f_baseline == pytest.approx(own_log_probability(model, base_ids, target)[0], abs=1e-4)
    check_axioms(e)


def test_system_message_excluded_message_level_and_spans():
    model, tok = tiny_llm("llama")
    explainer = CausalLMInteractionExplainer(model, tok)
    user_only = explainer(messages=MESSAGES, target="Yes", explain_messages="user", steps=8)
    assert set(user_only.meta["feature_messages"]) == {1}
    assert user_only.words == ["Is", "this", "film", "not", "bad", "at", "all", "?"]
    assert explainer(messages=MESSAGES, target="Yes", explain_messages=[1], steps=8).words == user_only.words
    # the system message's tokens are held: moving only the user's content
    ids, target = chat_ids(tok, MESSAGES), tok("Yes", add_special_tokens=False)["input_ids"]
    moved = content_positions(tok, user_only.text, [USER])
    base_ids = [tok.eos_token_id if k in moved else t for k, t in enumerate(ids)]
    assert user_only.f_baseline == pytest.approx(own_log_probability(model, base_ids, target)[0], abs=1e-4)

    # one feature per message; by bilinearity, the word matrix summed over each message's words (same rule)
    words = explainer(messages=MESSAGES, target="Yes", steps=8)
    messages = explainer(messages=MESSAGES, target="Yes", steps=8, features="message")
    assert messages.words == [SYSTEM, USER] and messages.level == "message"
    assert messages.meta["message_offsets"] == [[0, 0, len(SYSTEM)], [1, 0, len(USER)]]
    owner = np.array(words.meta["feature_messages"])
    summed = np.array([[words.interactions[np.ix_(owner == a, owner == b)].sum() for b in (0, 1)] for a in (0, 1)])
    np.testing.assert_allclose(messages.interactions, summed, atol=1e-5)
    np.testing.assert_allclose(messages.attributions, messages.interactions.sum(1), atol=1e-12)
    assert messages.f_input == pytest.approx(words.f_input, abs=1e-6)

    # per-message entries: spans into a message's content (held: None), sentences, a callable
    marked = explainer(messages=MESSAGES, target="Yes", steps=8, features=[None, [(0, 2), (8, 12), (17, 20)]])
    assert marked.words == ["Is", "film", "bad"] and marked.level == "spans"
    assert marked.meta["message_offsets"] == [[1, 0, 2], [1, 8, 12], [1, 17, 20]]
    two = [{"role": "user", "content": "Is this film good. It is not bad at all."}]
    sentences = explainer(messages=two, target="Yes", steps=8, features="sentence")
    assert sentences.words == ["Is this film good.", "It is not bad at all."] and sentences.level == "sentence"
    called = explainer(
        messages=MESSAGES, target="Yes", steps=8, explain_messages="user", features=lambda content: [(0, 2), (8, 12)]
    )
    assert called.words == ["Is", "film"] and called.meta["call"]["features"] is None  # a callable is not recorded
    values = explainer.coalition_values(called, np.array([[True, True], [False, False], [True, False]]))
    np.testing.assert_allclose(values[:2], [called.f_input, called.f_baseline], atol=1e-5)


def test_trimmed_content_keeps_spans_into_the_message():
    """Llama 3's template trims contents: spans still point into the message as given."""
    model, tok = tiny_llm("llama")
    messages = [{"role": "user", "content": "  this film is not bad  "}]
    e = CausalLMInteractionExplainer(model, tok)(messages=messages, target="Yes", steps=8)
    assert e.words == ["this", "film", "is", "not", "bad"]
    assert [messages[0]["content"][s:t] for _, s, t in e.meta["message_offsets"]] == e.words
    assert e.meta["message_offsets"][0] == [0, 2, 6]
    spans = CausalLMInteractionExplainer(model, tok)(
        messages=messages, target="Yes", steps=8, features=[[(2, 6), (19, 22)]]
    )
    assert spans.words == ["this", "bad"]


def test_many_conversations_equal_single_calls_and_replay():
    model, tok = tiny_llm("qwen2")
    explainer = CausalLMInteractionExplainer(model, tok)
    chats = [MESSAGES, [{"role": "user", "content": "Was the film good?"}]]
    many = explainer(messages=chats, target=["Yes", "No"], steps=8)
    for chat, target, e in zip(chats, ["Yes", "No"], many):
        single = explainer(messages=chat, target=target, steps=8)
        assert e.words == single.words and e.tokens == single.tokens
        np.testing.assert_allclose(e.interactions, single.interactions, atol=1e-5)
    # coalition values replay the recorded chat: all words present -> f(x), none -> f(x')
    e = many[0]
    values = explainer.coalition_values(e, np.array([[True] * len(e.words), [False] * len(e.words)]))
    np.testing.assert_allclose(values, [e.f_input, e.f_baseline], atol=1e-5)


def test_chat_bad_input_names_the_fix():
    model, tok = tiny_llm("qwen2")
    bare = copy.deepcopy(tok)
    bare.chat_template = None
    with pytest.raises(ValueError, match=r"tokenizer\.chat_template"):
        CausalLMInteractionExplainer(model, bare)(messages=MESSAGES, target="Yes", steps=4)
    explainer = CausalLMInteractionExplainer(model, tok)
    with pytest.raises(TypeError, match="either a prompt or messages="):
        explainer("a prompt", messages=MESSAGES, target="Yes")
    with pytest.raises(TypeError, match="pass a prompt"):
        explainer(target="Yes")
    with pytest.raises(TypeError, match=r"messages\[1\]\['content'\] is list"):
        explainer(messages=[MESSAGES[0], {"role": "user", "content": [{"type": "text", "text": "hi"}]}], target="x")
    with pytest.raises(TypeError, match=r"messages\[0\] is"):
        explainer(messages=[{"content": "no role"}], target="x")
    with pytest.raises(ValueError, match="no message has the role 'assistant'"):
        explainer(messages=MESSAGES, target="Yes", explain_messages="assistant")
    with pytest.raises(ValueError, match="one entry per message"):
        explainer(messages=MESSAGES, target="Yes", features=["word"])
    with pytest.raises(ValueError, match="features='message' needs a chat"):
        explainer("this film", target=" is", features="message")
    with pytest.raises(ValueError, match="explain_messages and chat_template_kwargs apply to a chat"):
        explainer("this film", target=" is", explain_messages="user")
    with pytest.raises(ValueError, match="falls outside"):
        explainer(messages=MESSAGES, target="Yes", features=[None, [(0, 200)]])
    shouting = copy.deepcopy(tok)  # a template that changes contents beyond trimming: the message is named
    shouting.chat_template = tok.chat_template.replace("message['content']", "message['content'] | upper")
    with pytest.raises(ValueError, match=r"messages\[0\] \(system\): the chat template does not show"):
        CausalLMInteractionExplainer(model, shouting)(messages=MESSAGES, target="Yes", steps=4)
    with restored(model), pytest.raises(ValueError, match="features='paragraph'"):  # the model stays as it was
        explainer(messages=MESSAGES, target="Yes", features="paragraph")


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_chat_matches_brute_force_reference(arch):
    """The whole chat interaction matrix against the independent full-Hessian reference (tests/reference.py): the
    test itself picks the tokens that move (the user content's, found in the rendered text) and groups them into
    words (the tokenizer's word ids for byte-level Llama 3; whitespace-separated words for SentencePiece Mistral,
    whose word ids span the whole text); template, system and target tokens are held."""
    from reference import Reference, assert_matches_reference, brute_force_interactions

    model, tok = tiny_llm(arch)
    messages = [MESSAGES[0], {"role": "user", "content": "Is this film not bad?"}]
    e = CausalLMInteractionExplainer(model, tok, smoothing=None)(
        messages=messages, target="Yes", steps=4, method="gauss", explain_messages="user"
    )
    ids, target = chat_ids(tok, messages), tok("Yes", add_special_tokens=False)["input_ids"]
    enc = tok(e.text, add_special_tokens=False, return_offsets_mapping=True)
    content = messages[1]["content"]
    start = e.text.index(content)
    index: dict = {}
    features = []
    for k, (s, t) in enumerate(enc["offset_mapping"]):
        if k not in content_positions(tok, e.text, [content]):
            features.append(-1)
            continue
        while e.text[s].isspace():
            s += 1
        key = enc.word_ids()[k] if arch == "llama" else e.text[start:s].count(" ")
        features.append(index.setdefault(key, len(index)))
    assert len(index) == len(e.words)
    inputs = {
        "input_ids": torch.tensor([ids + target]),
        "attention_mask": torch.ones(1, len(ids) + len(target), dtype=torch.long),
    }

    def log_probability(out):
        logp = torch.log_softmax(out.logits, -1)
        return sum(logp[:, len(ids) - 1 + k, i] for k, i in enumerate(target))

    base = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    reference = brute_force_interactions(
        model, Reference(inputs, features + [-1] * len(target), base, log_probability), 4
    )
    assert_matches_reference(e.interactions, reference)
