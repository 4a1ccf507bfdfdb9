"""One table of (task, tiny model, inputs) that drives the cross-cutting checks for every task explainer (as
Captum's shared test config does): one input and many, the model never changed (after a call, after a raising
call, under threads, not even for a moment), exact JSON round trips, the axioms, and HTML escaping of hostile
words and label names."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from task_helpers import assert_declared_shape, check_axioms

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

HOSTILE_TEXT = "<img src=x onerror=alert(9)>"
HOSTILE_LABELS = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>")
RAW = ("<img src=x onerror", "<script>alert(")  # must never appear unescaped in a report


@dataclass(frozen=True)
class Row:
    """One task on one tiny model: ``single`` (positional arguments of one input), ``many`` (columns of several
    inputs), ``kwargs`` for both; a per-input keyword in ``many_kwargs`` is a list, one value per input."""

    id: str
    explainer: type
    arch: str
    head: str = "sequence-classification"
    labels: tuple[str, ...] | None = None
    problem_type: str | None = None
    single: tuple = ()
    many: tuple = ()
    kwargs: dict = field(default_factory=dict)
    many_kwargs: dict = field(default_factory=dict)

    def model(self, factory):
        return factory(
            self.arch, self.head, labels=list(self.labels) if self.labels else None, problem_type=self.problem_type
        )


TABLE = [
    Row(
        "sequence",
        SequenceClassificationInteractionExplainer,
        "bert",
        labels=HOSTILE_LABELS,
        single=(f"this film {HOSTILE_TEXT} is not bad",),
        many=(["good", "not a good film at all", "bad film"],),
    ),
    Row(
        "pair",
        PairClassificationInteractionExplainer,
        "roberta",
        labels=HOSTILE_LABELS,
        single=(f"a man {HOSTILE_TEXT} plays", "someone makes music"),
        many=(["a man plays a guitar", "good", "the film"], ["someone makes music", "bad", "was long and dull"]),
    ),
    Row(
        "multilabel",
        MultiLabelClassificationInteractionExplainer,
        "bert",
        labels=("toxic",) + HOSTILE_LABELS,
        problem_type="multi_label_classification",
        single=(f"you are {HOSTILE_TEXT} bad",),
        many=(["you are bad", "a fine film", "not good"],),
        kwargs={"labels": [0, 2]},
    ),
    Row(
        "zero-shot",
        ZeroShotClassificationInteractionExplainer,
        "bert",
        labels=("contradiction", HOSTILE_LABELS[0], "entailment"),
        single=(f"the match {HOSTILE_TEXT} went to penalties",),
        kwargs={"labels": ["sports", "politics"]},
        many=(["the match went to penalties", "a vote in parliament"],),
    ),
    Row(
        "token",
        TokenClassificationInteractionExplainer,
        "bert",
        "token-classification",
        labels=("O", HOSTILE_LABELS[0], "B-LOC"),
        single=(f"george {HOSTILE_TEXT} went to washington",),
        many=(["george went to washington", "paris is big", "we saw a film"],),
        kwargs={"word": 0},
    ),
    Row(
        "question-answering",
        QuestionAnsweringInteractionExplainer,
        "bert",
        "question-answering",
        single=("who wrote it?", f"the film {HOSTILE_TEXT} was written by george"),
        many=(["who wrote it?", "where is it?"], ["the film was written by george", "it is in paris , france"]),
    ),
    Row(
        "masked-lm",
        MaskedLMInteractionExplainer,
        "bert",
        "masked-lm",
        single=(f"the film {HOSTILE_TEXT} is [MASK] good",),
        many=(["the film is [MASK] good", "a [MASK] film", "it was [MASK] , really bad"],),
    ),
    Row(
        "causal-lm",
        CausalLMInteractionExplainer,
        "gpt2",
        "causal-lm",
        single=(f"the film {HOSTILE_TEXT} was",),
        kwargs={"target": " good"},
        many=(["the film was", "a bad", "this movie is not"],),
        many_kwargs={"target": [" good", " film at all", " bad"]},
    ),
    Row(
        "seq2seq",
        Seq2SeqLMInteractionExplainer,
        "t5",
        "seq2seq-lm",
        single=(f"the film {HOSTILE_TEXT} was good",),
        kwargs={"target": "great"},
        many=(["the film was good", "a bad film"],),
        many_kwargs={"target": ["great", "not good at all"]},
    ),
]
ROWS = [pytest.param(row, id=row.id) for row in TABLE]


def explanations_of(result) -> list[Explanation]:
    """The Explanations of one input's result (an Explanation or a dict of them), in order."""
    return list(result.values()) if isinstance(result, dict) else [result]


def snapshot(model) -> tuple:
    """Everything an explanation must leave as it was."""
    return (
        [m.training for m in model.modules()],
        [p.requires_grad for p in model.parameters()],
        [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        getattr(model.config, "_attn_implementation", None),
        [float(p.detach().double().sum()) for p in model.parameters()],
    )


def same_state(a, b) -> bool:
    return (
        a[0] == b[0]
        and a[1] == b[1]
        and a[3] == b[3]
        and a[4] == b[4]
        and all(
            (x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
            for x, y in zip(a[2], b[2])
        )
    )


def assert_same(a: Explanation, b: Explanation, rel: float = 1e-5) -> None:
    assert a.words == b.words and a.offsets == b.offsets and a.target == b.target
    assert a.predicted_label == b.predicted_label
    scale = max(1.0, float(np.abs(b.interactions).max()))
    np.testing.assert_allclose(a.interactions, b.interactions, atol=rel * scale)
    np.testing.assert_allclose(a.attributions, b.attributions, atol=rel * scale)
    assert a.f_input == pytest.approx(b.f_input, abs=rel * max(1.0, abs(b.f_input)))


def single_calls(row: Row) -> list[tuple[tuple, dict]]:
    """The one-input calls that the many-input call of ``row`` stands for."""
    calls = []
    for i, args in enumerate(zip(*row.many)):
        kwargs = {**row.kwargs, **{k: v[i] for k, v in row.many_kwargs.items()}}
        calls.append((tuple(args), kwargs))
    return calls


@pytest.fixture
def hostile_state():
    """Prepares a model's state as a user might leave it: some parameters frozen, one with a ``.grad``."""

    def prepare(model):
        params = list(model.parameters())
        params[-1].requires_grad_(False)
        params[0].grad = torch.full_like(params[0], 0.5)
        return model

    yield prepare


def restore(model):
    for p in model.parameters():
        p.requires_grad_(True)
        p.grad = None
    model.eval()


# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", ROWS)
def test_one_input_axioms_json_and_escaped_html(row, tiny_task_model):
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    result = ex(*row.single, **row.kwargs)
    assert_declared_shape(ex, row.single, row.kwargs, result)
    explanations = explanations_of(result)
    assert explanations and all(isinstance(e, Explanation) for e in explanations)
    for e in explanations:
        check_axioms(e)
        assert e.meta["task"] == row.explainer.__name__
        assert Explanation.from_json(e.to_json()) == e
        page = e.to_html()
        assert not any(raw in page for raw in RAW), "unescaped hostile text or label in the report"


@pytest.mark.parametrize("row", ROWS)
def test_many_inputs_equal_one_at_a_time(row, tiny_task_model):
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    many = ex(*row.many, steps=6, **{**row.kwargs, **row.many_kwargs})
    assert_declared_shape(ex, row.many, {**row.kwargs, **row.many_kwargs}, many)
    calls = single_calls(row)
    assert isinstance(many, list) and len(many) == len(calls)
    for got, (args, kwargs) in zip(many, calls):
        alone = ex(*args, steps=6, **kwargs)
        assert_declared_shape(ex, args, kwargs, alone)
        assert type(got) is type(alone)
        if isinstance(alone, dict):
            assert list(got) == list(alone)
        for a, b in zip(explanations_of(got), explanations_of(alone)):
            assert_same(a, b)
    # a tuple, a numpy array of strings and an empty list work as many inputs too
    first = [column[:2] for column in row.many]
    kw = {**row.kwargs, **{k: v[:2] for k, v in row.many_kwargs.items()}}
    as_tuple = ex(*(tuple(c) for c in first), steps=6, **kw)
    as_array = ex(*(np.array(c) for c in first), steps=6, **kw)
    for a, b in zip(as_tuple, as_array):
        for x, y in zip(explanations_of(a), explanations_of(b)):
            assert_same(x, y, rel=1e-9)
    empty = ex(*([] for _ in row.many), steps=6, **row.kwargs)
    assert empty == []


@pytest.mark.parametrize("row", ROWS)
def test_model_never_changed_by_calls_errors_and_threads(row, tiny_task_model, hostile_state):
    model, tok = row.model(tiny_task_model)
    hostile_state(model)
    try:
        before = snapshot(model)
        ex, other = row.explainer(model, tok), row.explainer(model, tok)
        expected = explanations_of(ex(*row.single, steps=4, **row.kwargs))
        assert same_state(snapshot(model), before)

        calls = []

        def failing(outputs):
            calls.append(1)
            if len(calls) > 2:
                raise RuntimeError("boom")
            return outputs[0][:, 0].reshape(outputs[0].shape[0], -1)[:, 0]

        with pytest.raises(RuntimeError, match="boom"):
            ex(*row.single, output=failing, steps=4, **row.kwargs)
        assert same_state(snapshot(model), before)

        # several threads on one explainer and on two explainers of one model, while a watcher reads the state
        results, errors, changed = {}, [], []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                state = (
                    [m.training for m in model.modules()],
                    [p.requires_grad for p in model.parameters()],
                    getattr(model.config, "_attn_implementation", None),
                )
                if state != (before[0], before[1], before[3]):
                    changed.append(state)

        def work(i, explainer):
            try:
                results[i] = explanations_of(explainer(*row.single, steps=4, **row.kwargs))
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)

        watcher = threading.Thread(target=watch)
        workers = [threading.Thread(target=work, args=(i, ex if i < 3 else other)) for i in range(5)]
        watcher.start()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        stop.set()
        watcher.join()
        assert not errors, errors
        assert not changed, "another thread saw the model's state change"
        assert same_state(snapshot(model), before)
        for i in range(5):
            for a, b in zip(results[i], expected):
                assert_same(a, b, rel=1e-6)
    finally:
        restore(model)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in TABLE if r.id in ("sequence", "token")])
def test_training_mode_model_is_explained_as_in_eval_and_stays_in_training(row, tiny_task_model):
    model, tok = row.model(tiny_task_model)
    reference = explanations_of(row.explainer(model, tok)(*row.single, steps=4, **row.kwargs))
    model.train()
    try:
        got = explanations_of(row.explainer(model, tok)(*row.single, steps=4, **row.kwargs))
        assert all(m.training for m in model.modules())
        for a, b in zip(got, reference):
            assert_same(a, b, rel=1e-6)
    finally:
        model.eval()


@pytest.mark.parametrize("row", ROWS)
def test_custom_output_callable(row, tiny_task_model):
    """``output=`` a function of the model outputs: one explanation per distinct model input, recorded as custom."""
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)

    def first_two(outputs):
        scores = outputs[0].reshape(outputs[0].shape[0], -1)
        return scores[:, 1] - scores[:, 0]

    result = ex(*row.single, output=first_two, **row.kwargs)
    explanations = explanations_of(result)
    if row.id == "zero-shot":
        assert list(result) == row.kwargs["labels"]  # one per label's pair
    else:
        assert isinstance(result, Explanation)
    for e in explanations:
        check_axioms(e)
        assert e.output == "custom" and e.target_kind == "custom" and e.target_index is None
        assert e.meta["output_function"].endswith("first_two") and e.target.endswith("first_two")
        assert Explanation.from_json(e.to_json()) == e
    if row.id == "sequence":  # the model's own forward pass gives the same value
        with torch.no_grad():
            logits = model(**tok(row.single[0], return_tensors="pt").to(model.device)).logits[0]
        assert result.model_value == pytest.approx(float(logits[1] - logits[0]), abs=1e-5)
    with pytest.raises(ValueError, match="one scalar per batch row"):
        ex(*row.single, output=lambda out: out[0], steps=4, **row.kwargs)


@pytest.mark.parametrize("row", ROWS)
def test_selected_rows_and_sentence_features_on_every_task(row, tiny_task_model):
    """``rows=`` gives the full matrix's rows exactly (NaN elsewhere) and ``features="sentence"`` works for every
    task."""
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    full = explanations_of(ex(*row.single, steps=4, **row.kwargs))
    part = explanations_of(ex(*row.single, steps=4, rows=[0], **row.kwargs))
    for a, b in zip(part, full):
        assert a.meta["rows"] == [0] and np.isnan(a.interactions[~a.computed]).all()
        scale = max(1.0, float(np.abs(b.interactions).max()))
        np.testing.assert_allclose(a.interactions[0], b.interactions[0], atol=1e-5 * scale)
        np.testing.assert_allclose(a.attributions, b.attributions, atol=1e-5 * scale)
    for e in explanations_of(ex(*row.single, features="sentence", steps=4, **row.kwargs)):
        assert e.level == "sentence" and [e.text[s:t] for s, t in e.offsets] == e.words
        assert abs(e.interactions.sum() - (e.f_input - e.f_baseline)) < 1e-6 + e.completeness_error


FLAG_VARIANTS = [  # (row id, positional arguments, keywords): the calls whose shape a flag or argument chooses
    ("token", ("george went to washington",), {}),
    ("token", ("george went to washington", [0, 2]), {}),
    ("token", (["george went to washington", "paris is big"],), {}),
    ("token", (["george went to washington", "paris is big"], 1), {}),
    ("causal-lm", ("the film was", " good film"), {"per_token": True}),
    ("causal-lm", (["the film was", "a bad"], [" good film", " film"]), {"per_token": True}),
    ("seq2seq", ("the film was good", "not great"), {"per_token": True}),
    ("seq2seq", (["the film was good", "a bad film"], ["great", "not good"]), {"per_token": True}),
]


@pytest.mark.parametrize(
    "row_id, args, kwargs", [pytest.param(*v, id=f"{v[0]}-{i}") for i, v in enumerate(FLAG_VARIANTS)]
)
def test_flags_and_arguments_give_the_declared_shape(row_id, args, kwargs, tiny_task_model):
    """A call returns the one shape the task's overloads declare for its arguments (tests/call_shapes.py shows them
    to mypy): each per-token list has one explanation per continuation token, each dict one per explained word."""
    row = next(r for r in TABLE if r.id == row_id)
    model, tok = row.model(tiny_task_model)
    ex = row.explainer(model, tok)
    result = ex(*args, interactions=False, steps=4, **kwargs)
    assert_declared_shape(ex, args, kwargs, result)
    if row_id == "token" and len(args) == 1 and isinstance(args[0], str):
        assert list(result) == list(range(len(ex.words(args[0]))))
    if kwargs.get("per_token"):
        results = result if isinstance(args[0], list) else [result]
        for per_token in results:
            token_ids = per_token[0].meta["target_token_ids"]
            assert [e.meta["token_position"] for e in per_token] == list(range(len(token_ids))) and token_ids
