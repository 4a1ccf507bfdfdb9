"""Each task explainer refuses what it cannot explain, with a message that says why and what to do."""

import pytest

from transformers_ih import (
    CausalLMInteractionExplainer,
    MaskedLMInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    PairClassificationInteractionExplainer,
    QuestionAnsweringInteractionExplainer,
    Seq2SeqLMInteractionExplainer,
    TokenClassificationInteractionExplainer,
    ZeroShotClassificationInteractionExplainer,
)

NLI = ["contradiction", "neutral", "entailment"]


@pytest.mark.parametrize(
    "explainer, head, auto",
    [
        (TokenClassificationInteractionExplainer, "masked-lm", "AutoModelForTokenClassification"),
        (QuestionAnsweringInteractionExplainer, "sequence-classification", "AutoModelForQuestionAnswering"),
        (MaskedLMInteractionExplainer, "token-classification", "AutoModelForMaskedLM"),
        (PairClassificationInteractionExplainer, "question-answering", "AutoModelForSequenceClassification"),
        (MultiLabelClassificationInteractionExplainer, "masked-lm", "AutoModelForSequenceClassification"),
        (ZeroShotClassificationInteractionExplainer, "token-classification", "AutoModelForSequenceClassification"),
        (CausalLMInteractionExplainer, "masked-lm", "AutoModelForCausalLM"),
    ],
)
def test_head_that_does_not_match_the_task(tiny_task_model, explainer, head, auto):
    model, tok = tiny_task_model("bert", head)
    with pytest.raises(TypeError, match=f"does not have a .* head.*{auto}"):
        explainer(model, tok)


def test_wrong_kind_of_language_model(tiny_task_model):
    with pytest.raises(TypeError, match="encoder-decoder.*Seq2SeqLMInteractionExplainer"):
        CausalLMInteractionExplainer(*tiny_task_model("t5", "seq2seq-lm"))
    with pytest.raises(TypeError, match="not an encoder-decoder.*CausalLMInteractionExplainer"):
        Seq2SeqLMInteractionExplainer(*tiny_task_model("gpt2", "causal-lm"))


def test_zero_shot_needs_an_nli_model_and_labels(tiny_task_model):
    with pytest.raises(TypeError, match="no 'entailment' class"):
        ZeroShotClassificationInteractionExplainer(*tiny_task_model("bert"))  # NEGATIVE / POSITIVE
    ex = ZeroShotClassificationInteractionExplainer(*tiny_task_model("bert", labels=NLI))
    for labels in (None, [], "", " , "):
        with pytest.raises(ValueError, match="labels are missing"):
            ex("some text", labels)
    with pytest.raises(ValueError, match="distinct"):
        ex("some text", ["a", "a"])
    with pytest.raises(ValueError, match="non-empty string"):
        ex("some text", ["a", "  "])
    with pytest.raises(ValueError, match="no place for the label.*\\{\\}"):
        ex("some text", ["a"], hypothesis_template="This example is about it.")
    with pytest.raises(ValueError, match="text is empty"):
        ex("  ", ["a"])


def test_multilabel_refuses_single_label_models_and_unknown_labels(tiny_task_model):
    model, tok = tiny_task_model("bert", problem_type="single_label_classification")
    with pytest.raises(TypeError, match="not independent sigmoids.*SequenceClassificationInteractionExplainer"):
        MultiLabelClassificationInteractionExplainer(model, tok)
    ex = MultiLabelClassificationInteractionExplainer(
        *tiny_task_model("bert", labels=["a", "b"], problem_type="multi_label_classification")
    )
    with pytest.raises(ValueError, match="unknown label 'c'"):
        ex("text", ["c"])
    with pytest.raises(ValueError, match="labels is empty"):
        ex("text", [])
    with pytest.raises(ValueError, match="output must be"):
        ex("text", output="odds")


def test_question_answering_empty_and_too_long(tiny_task_model):
    ex = QuestionAnsweringInteractionExplainer(*tiny_task_model("bert", "question-answering"))
    with pytest.raises(ValueError, match="context is empty"):
        ex("who?", "   ")
    with pytest.raises(ValueError, match="question is empty"):
        ex("", "a context")
    with pytest.raises(ValueError, match="over the model's limit of 64 tokens"):
        ex("who wrote it?", "word " * 80)
    with pytest.raises(ValueError, match="max_answer_len"):
        ex("who?", "a context", max_answer_len=0)


def test_pair_over_the_limit_and_empty(tiny_task_model):
    ex = PairClassificationInteractionExplainer(*tiny_task_model("roberta"))
    with pytest.raises(ValueError, match=r"\d+ tokens long, over the model's limit of 64 tokens.*shorten"):
        ex("good " * 40, "bad " * 40)
    with pytest.raises(ValueError, match="text_pair is empty"):
        ex("good", "")


def test_causal_lm_targets(tiny_task_model):
    ex = CausalLMInteractionExplainer(*tiny_task_model("gpt2", "causal-lm"))
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        ex("the capital of france is", "")
    with pytest.raises(TypeError, match="target must be a string"):
        ex("the capital of france is", 42)  # (target=None generates the continuation: tests/test_llm_generation.py)
    with pytest.raises(ValueError, match="prompt is empty"):
        ex("", " paris")
    with pytest.raises(ValueError, match="continuation are \\d+ tokens long, over the model's limit"):
        ex("good " * 40, " bad" * 40)


def test_seq2seq_target_that_is_only_special_tokens(tiny_task_model):
    ex = Seq2SeqLMInteractionExplainer(*tiny_task_model("t5", "seq2seq-lm"))
    with pytest.raises(ValueError, match="tokenizes to nothing"):
        ex("this film is good", "")  # T5 gives only </s>


def test_masked_lm_mask_and_target(tiny_task_model):
    model, tok = tiny_task_model("bert", "masked-lm")
    ex = MaskedLMInteractionExplainer(model, tok)
    with pytest.raises(ValueError, match=r"mask token '\[MASK\]' exactly once; it occurs 0"):
        ex("no mask here")
    with pytest.raises(ValueError, match="occurs 2 times"):
        ex("[MASK] and [MASK]")
    with pytest.raises(ValueError, match="is 2 tokens.*not one"):
        ex("a [MASK] film", "good film")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        ex("a [MASK] film", 10**7)


def test_token_classification_word_positions(tiny_task_model):
    ex = TokenClassificationInteractionExplainer(*tiny_task_model("bert", "token-classification"))
    text = "washington went to washington"
    with pytest.raises(ValueError, match=r"'washington' occurs 2 times \(positions \[0, 3\]\); pass its position"):
        ex(text, word="washington")
    with pytest.raises(ValueError, match="position 9 is out of range.*4 words"):
        ex(text, word=9)
    with pytest.raises(ValueError, match="'paris' is not one of the words"):
        ex(text, word="paris")
    with pytest.raises(ValueError, match="unknown label"):
        ex(text, word=0, target="B-XYZ")
