"""Features at any granularity (``features=``): words, tokens, sentences, character spans, callables."""

from __future__ import annotations

import numpy as np
import pytest
from task_helpers import check_axioms

from transformers_ih import (
    Explanation,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TokenClassificationInteractionExplainer,
)
from transformers_ih.text.features import sentence_spans

DOC = "The film is not bad. It is long, though! I would watch it again."
SENTENCES = ["The film is not bad.", "It is long, though!", "I would watch it again."]


def summed(gamma: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    return np.array([[gamma[np.ix_(a, b)].sum() for b in groups] for a in groups])


def test_sentence_features_have_the_sentences_spans(tiny_task_model):
    ex = SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))
    e = ex(DOC, features="sentence", steps=6)
    assert e.level == "sentence" and e.words == SENTENCES
    assert [DOC[s:t] for s, t in e.offsets] == SENTENCES
    assert sentence_spans(DOC) == [tuple(o) for o in e.offsets]
    check_axioms(Explanation.from_json(e.to_json()))


@pytest.mark.parametrize("arch", ["bert", "roberta"])
def test_sentence_matrix_is_the_word_matrix_summed_over_each_sentence(tiny_task_model, arch):
    """Bilinearity: one coordinate per sentence moves all its words together, so at the same path points the
    sentence-level matrix equals the word-level one summed over the words of each sentence."""
    ex = SequenceClassificationInteractionExplainer(*tiny_task_model(arch))
    words = ex(DOC, target=1, steps=8, method="gauss")
    sentences = ex(DOC, target=1, features="sentence", steps=8, method="gauss")
    groups = [[i for i, (s, t) in enumerate(words.offsets) if a <= s and t <= b] for a, b in sentences.offsets]
    assert sorted(i for g in groups for i in g) == list(range(len(words.words)))
    expected = summed(words.interactions, groups)
    np.testing.assert_allclose(sentences.interactions, expected, atol=1e-5 * np.abs(expected).max())
    adaptive = ex(DOC, target=1, features="sentence")  # and within the adaptive rule's tolerance
    tol = 2e-3 * abs(adaptive.f_input - adaptive.f_baseline) + 1e-4
    np.testing.assert_allclose(adaptive.interactions, expected, atol=max(tol, 2e-3 * np.abs(expected).max()))


def test_tokens_spans_and_callables(tiny_task_model):
    model, tok = tiny_task_model("bert")
    ex = SequenceClassificationInteractionExplainer(model, tok)
    text = "unbelievably good film"
    tokens = ex(text, features="token", steps=6)
    pieces = [t for t in tok.tokenize(text)]
    assert tokens.level == "token" and len(tokens.words) == len(pieces) and len(pieces) > 3
    assert "".join(w for w in tokens.words) == text.replace(" ", "")
    spans = ex(text, features=[(0, 12), (18, 22)], steps=6)  # "good" is in no span: held at the input
    assert spans.level == "spans" and spans.words == ["unbelievably", "film"]
    by_callable = ex(text, features=lambda t: [(0, 12), (18, 22)], steps=6)
    np.testing.assert_allclose(by_callable.interactions, spans.interactions, atol=1e-9)
    # a feature held at the input changes the path: the two-feature matrix is not the word matrix's block
    words = ex(text, steps=6)
    assert not np.allclose(spans.f_baseline, words.f_baseline)


def test_bad_spans_are_refused_with_the_reason(tiny_task_model):
    ex = SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))
    text = "a good film"
    with pytest.raises(ValueError, match=r"spans \(0, 6\) and \(2, 11\) of text overlap"):
        ex(text, features=[(0, 6), (2, 11)])
    with pytest.raises(ValueError, match=r"empty or falls outside the text \(0..11\)"):
        ex(text, features=[(5, 40)])
    with pytest.raises(ValueError, match=r"cuts the token 'good'"):
        ex(text, features=[(0, 4)])
    with pytest.raises(ValueError, match="cover no token"):
        ex(text + "   ", features=[(0, 1), (11, 13)])
    with pytest.raises(ValueError, match="not a pair of integer character offsets"):
        ex(text, features=[(0.0, 1.0)])
    with pytest.raises(ValueError, match=r"features='paragraph': expected one of"):
        ex(text, features="paragraph")
    with pytest.raises(ValueError, match="made by bad"):

        def bad(t):
            return [(0, 100)]

        ex(text, features=bad)


def test_pairs_take_spans_per_text_and_many_inputs_spans_per_input(tiny_task_model):
    ex = PairClassificationInteractionExplainer(*tiny_task_model("bert"))
    a, b = "a man plays a guitar. he sings.", "someone makes music"
    e = ex(a, b, features=("sentence", [(0, 13), (14, 19)]), steps=6)
    assert e.words == ["a man plays a guitar.", "he sings.", "someone makes", "music"] and e.word_groups == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="one entry per text"):
        ex(a, b, features=[(0, 7)])
    texts = ["good film", "a bad one"]
    many = SequenceClassificationInteractionExplainer(*tiny_task_model("bert"))(
        texts, features=[[(0, 9)], [(0, 5), (6, 9)]], steps=6
    )
    assert [m.words for m in many] == [["good film"], ["a bad", "one"]]
    with pytest.raises(ValueError, match="one entry .spans. per input"):
        ex(texts, texts, features=[[(0, 4)]])


def test_tasks_keep_their_own_word_semantics_at_other_levels(tiny_task_model):
    """Token classification addresses words by the tokenizer's words, and question answering picks its answer
    among all context tokens, whatever the features are."""
    model, tok = tiny_task_model("bert", "token-classification", labels=["O", "B-LOC"])
    ner = TokenClassificationInteractionExplainer(model, tok)
    text = "we went to paris. it was big."
    word_level = ner(text, word=3, steps=4)
    sentence_level = ner(text, word=3, features="sentence", steps=4)
    assert sentence_level.meta["word"] == word_level.meta["word"] == "paris"
    assert sentence_level.meta["token_index"] == word_level.meta["token_index"]
    assert sentence_level.f_input == pytest.approx(word_level.f_input, abs=1e-6)
    assert sentence_level.words == ["we went to paris.", "it was big."]
    qa = QuestionAnsweringInteractionExplainer(*tiny_task_model("bert", "question-answering"))
    question, context = "who wrote it?", "the film was good. it was written by george."
    words = qa(question, context, steps=4)
    sentences = qa(question, context, features=("word", "sentence"), steps=4)
    assert sentences["start"].meta["answer"] == words["start"].meta["answer"]
    assert sentences["start"].words[-2:] == ["the film was good.", "it was written by george."]
    check_axioms(qa(question, context, features=("word", "sentence"))["end"])


def test_older_explanations_load_at_word_level():
    from explanation_factory import make_explanation

    d = make_explanation(["not", "bad"]).to_dict()
    d.pop("level")
    d["format_version"] = 2
    assert Explanation.from_dict(d).level == "word"
