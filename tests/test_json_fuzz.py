"""Edited JSON files, at random: every field of a real explanation's record (and of a corpus's) is replaced, dropped,
emptied or given a junk element, hundreds of times (hypothesis). Loading either refuses with a ``ValueError`` that
names a field of the record and the fix, with no Python-internal text, or gives an explanation (corpus) that shows,
summarises and round-trips unchanged. The hand-picked cases are in ``test_surfaces_probe.py``; this is their random
neighbourhood, as files edited by hand or by other tools arrive."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from explanation_factory import make_explanation, make_partial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_surfaces_probe import INTERNAL

from transformers_ih import Explanation, SequenceClassificationInteractionExplainer
from transformers_ih.corpus import CorpusInteractions
from transformers_ih.corpus.columns import EXPLANATION_COLUMNS, explanation_from_row, explanation_row

JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
SETTINGS = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def records(tiny_task_model) -> list[dict]:
    """JSON records of real explanations: a full one with its removal check, a ``rows=`` one (NaN cells, a mask),
    and an attributions-only one."""
    model, tok = tiny_task_model("bert", "sequence-classification")
    ex = SequenceClassificationInteractionExplainer(model, tok)
    made = [
        ex("this film is not bad", steps=4),
        ex("a film that is good here", steps=4, rows=[1]),
        ex("not good", steps=4, interactions=False),
    ]
    assert made[0].removal_check is not None and made[1].computed is not None
    return [json.loads(e.to_json()) for e in made]


def mutate(draw, d: dict) -> tuple[str, dict]:
    """One random edit of record ``d`` (a copy): the field it touched and the edited record."""
    d = copy.deepcopy(d)
    name = draw(st.sampled_from(sorted(d)))
    value = d[name]
    edits = ["replace", "drop"]
    if isinstance(value, list) and value:
        edits += ["element", "shorten", "append"]
    if isinstance(value, dict):
        edits += ["key"]
    edit = draw(st.sampled_from(edits))
    if edit == "replace":
        d[name] = draw(JUNK)
    elif edit == "drop":
        del d[name]
    elif edit == "element":
        i = draw(st.integers(0, len(value) - 1))
        value[i] = draw(JUNK)
    elif edit == "shorten":
        value.pop()
    elif edit == "append":
        value.append(draw(JUNK))
    else:
        key = draw(st.sampled_from(sorted(value) + ["extra"]))
        value[key] = draw(JUNK)
    return name, d


def refusal_names_a_field(message: str, fields: list[str]) -> None:
    assert any(f"'{f}" in message or f"{f}[" in message or f"{f}." in message or f"{f} " in message for f in fields), (
        message
    )
    fixes = ("to_json()", "format", "upgrade", "explain the dataset again")
    assert any(fix in message for fix in fixes), message  # the fix
    assert not any(text in message for text in INTERNAL), message


def dumps(d: dict) -> str:
    return json.dumps(d)  # NaN and Infinity are written as JSON's extensions, as other tools do


@st.composite
def edited_explanations(draw, records):
    record = draw(st.sampled_from(records))
    return mutate(draw, record)


@given(data=st.data())
@SETTINGS
def test_edited_explanation_json_is_refused_naming_a_field_or_loads_whole(records, data):
    name, d = data.draw(edited_explanations(records))
    try:
        e = Explanation.from_json(dumps(d))
    except ValueError as err:
        refusal_names_a_field(str(err), sorted(records[0]))
        return
    # accepted: a valid explanation that every surface can use, unchanged by a round trip
    assert len(e.words) == len(e.offsets) == len(e.attributions)
    assert np.isfinite(e.attributions).all() and math.isfinite(e.f_input)
    if e.interactions is not None:
        finite = np.isfinite(e.interactions)
        assert (finite == (e.computed if e.computed is not None else True)).all()
    assert Explanation.from_json(e.to_json()) == e
    e.summary()
    assert "<html" in e.to_html()


def _corpus_record() -> dict:
    full = make_explanation(["not", "bad", "film"], seed=1)
    partial = make_partial(make_explanation(["not", "bad", "film", "here"], seed=2), [0])
    return json.loads(CorpusInteractions.from_explanations([full, partial]).to_json())


CORPUS = _corpus_record()


@st.composite
def edited_corpora(draw):
    name, d = mutate(draw, CORPUS)
    if (
        draw(st.booleans())
        and isinstance(d.get(name), list)
        and d[name]
        and isinstance(d[name][0], (list, dict))
        and d[name][0]
    ):
        inner = d[name][0]  # one level deeper: an entry of a pair, word or document record
        key = draw(st.sampled_from(list(range(len(inner))) if isinstance(inner, list) else sorted(inner)))
        inner[key] = draw(JUNK)
    return d


@given(d=edited_corpora())
@SETTINGS
def test_edited_corpus_json_is_refused_naming_a_field_or_loads_whole(d):
    try:
        corpus = CorpusInteractions.from_json(dumps(d))
    except ValueError as err:
        refusal_names_a_field(str(err), sorted(CORPUS))
        return
    assert CorpusInteractions.from_json(corpus.to_json()) == corpus
    for pair in corpus.top_pairs(None):
        assert np.isfinite([pair.mean, pair.mean_abs, pair.total]).all() and pair.count >= 1
    corpus.top_words(None)


@st.composite
def edited_rows(draw, rows):
    """A dataset row of explain_dataset (its explanation columns) with one column edited: junk in its place, JSON
    text of junk in a JSON-text column, or a junk element in a list column."""
    row = copy.deepcopy(draw(st.sampled_from(rows)))
    column = draw(st.sampled_from(sorted(row)))
    edit = draw(st.sampled_from(["replace", "json", "element"]))
    if edit == "json":
        row[column] = json.dumps(draw(JUNK))
    elif edit == "element" and isinstance(row[column], list) and row[column]:
        row[column][draw(st.integers(0, len(row[column]) - 1))] = draw(JUNK)
    else:
        row[column] = draw(JUNK)
    return row


@pytest.fixture(scope="module")
def dataset_rows(records) -> list[dict]:
    """The explain_dataset rows (explanation columns) of :func:`records`."""
    return [explanation_row(Explanation.from_dict(r), i) for i, r in enumerate(records)]


@given(data=st.data())
@SETTINGS
def test_edited_dataset_rows_are_refused_naming_a_column_or_field_or_load_whole(records, dataset_rows, data):
    row = data.draw(edited_rows(dataset_rows))
    try:
        e = explanation_from_row(row)
    except ValueError as err:
        refusal_names_a_field(str(err), sorted(set(records[0]) | set(EXPLANATION_COLUMNS)))
        return
    assert Explanation.from_json(e.to_json()) == e
    e.summary()
