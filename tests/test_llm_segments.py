"""Prompt segments (issue 13.3): one feature per retrieved document (or message, or marked span) with ``features=``
spans from :func:`transformers_ih.prompt_segments`: a RAG prompt with 5 documents gives a 5 x 5 document
interaction matrix."""

from __future__ import annotations

import numpy as np
import pytest
from llm_models import own_log_probability, tiny_llm
from task_helpers import check_axioms

from transformers_ih import CausalLMInteractionExplainer, PromptSegments, prompt_segments
from transformers_ih.text.segments import degenerate_words, region_spans, region_words

DOCS = ["the film is not bad", "the plot is thin", "the actors are good", "it is too long", "the music is fine"]


def rag_prompt() -> PromptSegments:
    segments = {
        "instruction": "Answer from the documents.",
        **{f"doc {i + 1}": d for i, d in enumerate(DOCS)},
        "question": "Question: is the film good?\nAnswer:",
    }
    return prompt_segments(segments, explain=[f"doc {i + 1}" for i in range(5)])


def test_prompt_segments_helper():
    p = prompt_segments(["a b", "c"], separator=" | ", prefix="<", suffix=">")
    assert p.text == "<a b | c>" and p.spans == [(1, 4), (7, 8)] and p.names == ["0", "1"]
    assert p.segments == [("0", 1, 4), ("1", 7, 8)]
    p = prompt_segments([("intro", "Read:"), ("doc", "  some text  ")], explain="doc")
    assert p.text == "Read:\n\n  some text  " and [p.text[a:b] for a, b in p.spans] == ["some text"]
    assert p.names == ["doc"]
    p = rag_prompt()
    assert [p.text[a:b] for a, b in p.spans] == DOCS and p.names == [f"doc {i}" for i in range(1, 6)]
    assert p.text.startswith("Answer from the documents.\n\nthe film is not bad\n\n")
    for bad, match in [
        (([], {}), "empty"),
        ((["a", "a"], {"explain": ["x"]}), "no segment named 'x'"),
        ((["a"], {"explain": [3]}), "out of range"),
        (([("a", "x"), ("a", "y")], {}), "repeat"),
        ((["a", "  "], {}), "empty"),
        (("text", {}), "must be a list"),
    ]:
        with pytest.raises((ValueError, TypeError), match=match):
            prompt_segments(bad[0], **bad[1])


def test_rag_document_interactions():
    """5 documents -> a 5 x 5 matrix whose entries are, by bilinearity, the word x word interactions summed over each
    pair of documents (instruction and question held in both); the value is the model's own log-probability."""
    model, tok = tiny_llm("qwen2")
    explainer = CausalLMInteractionExplainer(model, tok)
    p = rag_prompt()
    docs = explainer(p.text, target=" yes", features=p.spans)
    assert docs.words == DOCS and docs.level == "spans" and docs.interactions.shape == (5, 5)
    expected, _ = own_log_probability(
        model, tok(p.text)["input_ids"], tok(" yes", add_special_tokens=False)["input_ids"]
    )
    assert docs.model_value == pytest.approx(expected, abs=1e-4)
    check_axioms(docs)
    # the same prompt at word level, only the documents' words moving, same path rule
    word_spans, owner = [], []
    for d, (a, _) in enumerate(p.spans):
        pos = a
        for word in DOCS[d].split():
            at = p.text.index(word, pos)
            word_spans.append((at, at + len(word)))
            owner.append(d)
            pos = at + len(word)
    fixed = dict(target=" yes", steps=8)
    words = explainer(p.text, features=word_spans, **fixed)
    blocks = explainer(p.text, features=p.spans, **fixed)
    owner = np.array(owner)
    summed = np.array([[words.interactions[np.ix_(owner == a, owner == b)].sum() for b in range(5)] for a in range(5)])
    np.testing.assert_allclose(blocks.interactions, summed, atol=1e-5)
    # the top document pair is what top_interactions reports
    a, b, value = blocks.top_interactions(1)[0]
    assert {a, b} <= set(DOCS) and value != 0


def test_documents_inside_a_chat_message():
    """Documents in a user message: per-message spans (into the message's content) give one feature each."""
    model, tok = tiny_llm("llama")
    p = prompt_segments(DOCS[:3])
    messages = [{"role": "system", "content": "Answer from the documents."}, {"role": "user", "content": p.text}]
    e = CausalLMInteractionExplainer(model, tok)(messages=messages, target="Yes", features=[None, p.spans], steps=8)
    assert e.words == DOCS[:3] and e.interactions.shape == (3, 3)
    assert e.meta["message_offsets"] == [[1, a, b] for a, b in p.spans]


def test_words_inside_a_region():
    """Words: the tokenizer's words split at whitespace (SentencePiece tokenizers give one word id for a whole text);
    a whitespace-only token right before a word moves with it; tokens straddling the region's edge are held."""
    text = "this film"  # SentencePiece: '▁this' '▁film', one word id
    offsets, word_ids = [(0, 4), (4, 9)], [0, 0]
    assert degenerate_words(text, offsets, word_ids)
    assert region_words(text, offsets, word_ids, (0, 9)) == [(0, 4), (5, 9)]
    text = "in Paris"  # byte-level: 'in' 'Ġ' 'Paris' (a rare word, its space split off)
    offsets, word_ids = [(0, 2), (2, 3), (3, 8)], [0, 1, 1]
    assert not degenerate_words(text, offsets, word_ids)
    assert region_words(text, offsets, word_ids, (0, 8)) == [(0, 2), (2, 8)]
    assert region_words(text, offsets, word_ids, (3, 8)) == [(3, 8)]  # the space is outside the region: held
    text = "<x>ab cd</x>"  # template tokens around a content region (3, 8)
    offsets, word_ids = [(0, 3), (3, 5), (5, 8), (8, 12)], [0, 1, 2, 3]
    assert region_spans(text, offsets, word_ids, (3, 8), "token") == [(3, 5), (6, 8)]
    assert region_spans(text, offsets, word_ids, (3, 8), "message") == [(3, 8)]
    assert region_spans(text, offsets, word_ids, (4, 8), "word") == [(6, 8)]  # 'ab' straddles the edge: held
