"""AutoInteractionExplainer: the task explainer from a model's head, from a saved checkpoint and from a pipeline, on
every task of the task table; its explanations equal those of the explainer constructed directly (values)."""

from __future__ import annotations

import pytest
import torch
import transformers
from test_task_table import TABLE, assert_same, explanations_of

from transformers_ih import (
    AutoInteractionExplainer,
    MultiLabelClassificationInteractionExplainer,
    SequenceClassificationInteractionExplainer,
    TextInteractionExplainer,
)
from transformers_ih.auto import TASKS, resolve_task, task_of_architecture

# the task= a row needs: pair and zero-shot share the sequence classifier's head, so they are asked for
EXPLICIT = {"pair": "text-pair-classification", "zero-shot": "zero-shot-classification"}
# the pipeline of each row's task (those the installed transformers has; v5 dropped question answering and
# text2text generation)
PIPELINES = {
    "sequence": "text-classification",
    "multilabel": "text-classification",
    "zero-shot": "zero-shot-classification",
    "token": "token-classification",
    "question-answering": "question-answering",
    "masked-lm": "fill-mask",
    "causal-lm": "text-generation",
    "seq2seq": "text2text-generation",
}
ROWS = [pytest.param(row, id=row.id) for row in TABLE]


def _supported_pipelines() -> set[str]:
    from transformers.pipelines import SUPPORTED_TASKS

    return set(SUPPORTED_TASKS)


def _check_same(auto, direct, row) -> None:
    """``auto`` is of the row's explainer class and explains the row's first short input as ``direct`` does."""
    assert type(auto) is type(direct) is row.explainer
    args = tuple(column[0] for column in row.many)
    kwargs = {**row.kwargs, **{k: v[0] for k, v in row.many_kwargs.items()}}
    got = auto(*args, steps=4, **kwargs)
    want = direct(*args, steps=4, **kwargs)
    assert type(got) is type(want)
    if isinstance(want, dict):
        assert list(got) == list(want)
    for a, b in zip(explanations_of(got), explanations_of(want), strict=True):
        assert_same(a, b, rel=1e-9)
        assert a.meta["task"] == row.explainer.__name__


def test_every_task_of_the_table_is_an_auto_task():
    assert {row.explainer for row in TABLE} == set(TASKS.values())


@pytest.mark.parametrize("row", ROWS)
def test_model_and_tokenizer(row, tiny_task_model):
    model, tok = row.model(tiny_task_model)
    auto = AutoInteractionExplainer(model, tok, task=EXPLICIT.get(row.id), rtol=2e-3, baseline="unk")
    assert (auto.rtol, auto.baseline) == (2e-3, "unk")  # the options reach the explainer
    _check_same(auto, row.explainer(model, tok, rtol=2e-3, baseline="unk"), row)


@pytest.mark.parametrize("row", ROWS)
def test_from_pretrained_a_saved_model(row, tiny_task_model, tmp_path):
    model, tok = row.model(tiny_task_model)
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    auto = AutoInteractionExplainer.from_pretrained(
        str(tmp_path), EXPLICIT.get(row.id), model_kwargs={"dtype": torch.float32}
    )
    assert auto.model is not model and type(auto.model) is type(model)
    _check_same(auto, row.explainer(model, tok), row)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in TABLE if r.id in PIPELINES])
def test_pipeline(row, tiny_task_model):
    task = PIPELINES[row.id]
    if task not in _supported_pipelines():
        pytest.skip(f"transformers {transformers.__version__} has no {task!r} pipeline")
    model, tok = row.model(tiny_task_model)
    pipe = transformers.pipeline(task, model=model, tokenizer=tok)
    assert pipe.model is model
    auto = AutoInteractionExplainer(pipe)
    assert auto.model is model and auto.tokenizer is pipe.tokenizer
    _check_same(auto, row.explainer(model, tok), row)


def test_pair_task_on_a_text_classification_pipeline(tiny_task_model):
    row = next(r for r in TABLE if r.id == "pair")
    model, tok = row.model(tiny_task_model)
    pipe = transformers.pipeline("text-classification", model=model, tokenizer=tok)
    assert type(AutoInteractionExplainer(pipe)) is SequenceClassificationInteractionExplainer
    _check_same(AutoInteractionExplainer(pipe, task="pair-classification"), row.explainer(model, tok), row)


def test_the_head_decides_without_task(tiny_task_model):
    """An NLI classifier is a sequence classifier unless zero-shot is asked for; a multi-label config picks the
    multi-label explainer, also when "text-classification" is asked for (as the pipeline applies sigmoids)."""
    nli = next(r for r in TABLE if r.id == "zero-shot").model(tiny_task_model)
    assert type(AutoInteractionExplainer(*nli)) is SequenceClassificationInteractionExplainer
    multi = next(r for r in TABLE if r.id == "multilabel").model(tiny_task_model)
    assert type(AutoInteractionExplainer(*multi)) is MultiLabelClassificationInteractionExplainer
    explicit = AutoInteractionExplainer(*multi, task="text-classification", threshold=0.3)
    assert type(explicit) is MultiLabelClassificationInteractionExplainer and explicit.threshold == 0.3


def test_names_of_heads_and_tasks():
    assert task_of_architecture("DistilBertForSequenceClassification") == "text-classification"
    assert task_of_architecture("BartForConditionalGeneration") == "text2text-generation"  # not fill-mask
    assert task_of_architecture("GPT2LMHeadModel") == "text-generation"
    assert task_of_architecture("MyCustomForTokenClassification") == "token-classification"  # custom code
    assert task_of_architecture("BertModel") is None
    assert resolve_task("sentiment-analysis") == "text-classification"
    assert resolve_task("ner") == "token-classification"
    assert resolve_task("translation_en_to_fr") == "text2text-generation"
    assert resolve_task("Zero_Shot-Classification") == "zero-shot-classification"


def test_clear_errors(tiny_task_model, tmp_path):
    model, tok = tiny_task_model("bert", "masked-lm")
    base = transformers.BertModel(model.config)
    with pytest.raises(TypeError, match=r"BertModel, which has no head.*AutoModelForSequenceClassification"):
        AutoInteractionExplainer(base, tok)
    with pytest.raises(ValueError, match=r"task='sentiment' is not a task.*'fill-mask'"):
        AutoInteractionExplainer(model, tok, task="sentiment")
    with pytest.raises(TypeError, match="tokenizer is missing"):
        AutoInteractionExplainer(model)
    with pytest.raises(TypeError, match="does not have a sequence classification head"):  # the task's own check
        AutoInteractionExplainer(model, tok, task="text-classification")
    base.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    with pytest.raises(TypeError, match=r"names architectures \['BertModel'\].*Pass task="):
        AutoInteractionExplainer.from_pretrained(str(tmp_path))
    # a base model loaded with an explicit task gets that head (new weights, as AutoModelFor... does)
    loaded = AutoInteractionExplainer.from_pretrained(str(tmp_path), "fill-mask")
    assert isinstance(loaded, TextInteractionExplainer) and type(loaded.model).__name__ == "BertForMaskedLM"


@pytest.mark.slow
def test_real_model_from_pretrained_equals_direct(real_model):
    from tiny_models import REAL_MODEL

    model, tok = real_model
    auto = AutoInteractionExplainer.from_pretrained(str(REAL_MODEL))
    assert type(auto) is SequenceClassificationInteractionExplainer
    text = "not painfully funny"
    a = auto(text, steps=8)
    b = SequenceClassificationInteractionExplainer(model, tok)(text, steps=8)
    assert_same(a, b, rel=1e-6)
