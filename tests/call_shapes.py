"""What each task's call returns, for a type checker: ``mypy tests/call_shapes.py`` (``.ci/lint.sh``) checks that
the overloads written in the task modules give one return type per kind of input, so an IDE shows it.
``tests/test_task_table.py::test_results_have_the_declared_shape`` checks that the calls really return them.
Nothing here runs: the functions only take explainers as arguments."""

from __future__ import annotations

from typing_extensions import assert_type

from transformers_ih import (
    CausalLMInteractionExplainer,
    Explanation,
    MaskedLMInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    Seq2SeqLMInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TokenClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
)


def classification(
    sequence: SequenceClassificationInteractionExplainer,
    pair: PairClassificationInteractionExplainer,
    multilabel: MultiLabelClassificationInteractionExplainer,
    zero_shot: ZeroShotClassificationInteractionExplainer,
) -> None:
    assert_type(sequence("a film"), Explanation)
    assert_type(sequence("a film", target="POSITIVE", steps=8), Explanation)
    assert_type(sequence(["a film", "a book"]), list[Explanation])
    assert_type(pair("a man plays", "someone makes music"), Explanation)
    assert_type(pair(["a", "b"], ["c", "d"]), list[Explanation])
    assert_type(multilabel("you are bad"), dict[str, Explanation])
    assert_type(multilabel(["you are bad", "fine"], labels="predicted"), list[dict[str, Explanation]])
    assert_type(zero_shot("the match", ["sports", "politics"]), dict[str, Explanation])
    assert_type(zero_shot(["the match", "a vote"], "sports, politics"), list[dict[str, Explanation]])


def tokens_and_spans(
    token: TokenClassificationInteractionExplainer,
    qa: QuestionAnsweringInteractionExplainer,
    masked: MaskedLMInteractionExplainer,
) -> None:
    assert_type(token("george went to paris", 0), Explanation)
    assert_type(token("george went to paris", word="paris"), Explanation)
    assert_type(token("george went to paris"), dict[int, Explanation])
    assert_type(token("george went to paris", [0, 3]), dict[int, Explanation])
    assert_type(token(["george went", "paris is big"], 0), list[Explanation])
    assert_type(token(["george went", "paris is big"]), list[dict[int, Explanation]])
    assert_type(qa("who wrote it?", "george wrote it"), dict[str, Explanation])
    assert_type(qa(["who?", "where?"], ["george", "paris"]), list[dict[str, Explanation]])
    assert_type(masked("a [MASK] film"), Explanation)
    assert_type(masked(["a [MASK] film", "[MASK] good"], rows=3), list[Explanation])


def language_models(causal: CausalLMInteractionExplainer, seq2seq: Seq2SeqLMInteractionExplainer) -> None:
    chat = [{"role": "user", "content": "is this film good?"}]
    assert_type(causal("the film was", " good"), Explanation)
    assert_type(causal(messages=chat), Explanation)
    assert_type(causal("the film was", " good", per_token=True), list[Explanation])
    assert_type(causal(messages=chat, per_token=True), list[Explanation])
    assert_type(causal(["the film was", "a bad"], " good"), list[Explanation])
    assert_type(causal(messages=[chat, chat]), list[Explanation])
    assert_type(causal(["the film was", "a bad"], [" good", " film"], per_token=True), list[list[Explanation]])
    assert_type(seq2seq("the film was good", "great"), Explanation)
    assert_type(seq2seq("the film was good", "great", per_token=True), list[Explanation])
    assert_type(seq2seq(["the film was good", "a bad film"]), list[Explanation])
    assert_type(seq2seq(["the film was good", "a bad film"], per_token=True), list[list[Explanation]])
