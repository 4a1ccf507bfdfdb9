"""Every field of an Explanation survives every container: JSON (text and file), explain_dataset's rows (an Arrow
table, Parquet and Arrow files, a ``datasets.Dataset``), ``explanations(ds)`` / ``results(ds)``, and what
CorpusInteractions keeps of it (level, computed rows; only computed cells counted).

Explanations come from every task of the task table under feature levels x ``rows=`` x options (a few combinations
per task, all of them covered across the table), and from hypothesis over hand-made explanations."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from explanation_factory import make_explanation, make_partial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_task_table import TABLE, explanations_of

from transformers_ih import CausalLMInteractionExplainer, Explanation
from transformers_ih.corpus import CorpusInteractions, explain_dataset, explanations, results
from transformers_ih.corpus.columns import EXPLANATION_COLUMNS, explanation_row, rows_table


def whitespace_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


# (name, call options); each task runs one of them, and every one runs on some task
COMBOS = [
    ("word", {}),
    ("token-rows", {"features": "token", "rows": [0]}),
    ("sentence-rows-k", {"features": "sentence", "rows": 1}),
    ("callable", {"features": whitespace_spans}),
    ("word-rows-unk", {"rows": [1], "baseline": "unk", "check": 2}),
    ("sentence-no-interactions", {"features": "sentence", "interactions": False}),
]
CASES = [
    pytest.param(row, COMBOS[i % len(COMBOS)], id=f"{row.id}-{COMBOS[i % len(COMBOS)][0]}")
    for i, row in enumerate(TABLE)
]


def every_field_equal(a: Explanation, b: Explanation) -> None:
    """Field by field (arrays exactly, NaN in place), beyond ``==`` (which compares the JSON)."""
    assert a == b
    for f in dataclasses.fields(Explanation):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert x is not None and y is not None and x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


def through_every_container(items: list[Explanation], tmp_path) -> None:
    """Each explanation back from JSON text, a JSON file, an Arrow table, a Parquet file, an Arrow IPC file and a
    ``datasets.Dataset``, equal field by field; and a corpus of them keeps their level and computed rows."""
    import datasets

    for k, e in enumerate(items):
        every_field_equal(Explanation.from_json(e.to_json()), e)
        e.to_json(tmp_path / f"e{k}.json")
        every_field_equal(Explanation.from_json(tmp_path / f"e{k}.json"), e)
    table = rows_table([explanation_row(e, i, key=None) for i, e in enumerate(items)])
    assert table.column_names == list(EXPLANATION_COLUMNS)
    pq.write_table(table, tmp_path / "rows.parquet")
    with pa.OSFile(str(tmp_path / "rows.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    from_parquet = pq.read_table(tmp_path / "rows.parquet")
    from_arrow = pa.ipc.open_file(pa.memory_map(str(tmp_path / "rows.arrow"))).read_all()
    for source in (table, from_parquet, from_arrow, datasets.Dataset(from_parquet)):
        back = explanations(source)
        assert len(back) == len(items)
        for got, want in zip(back, items):
            every_field_equal(got, want)
    with_matrix = [e for e in items if e.interactions is not None]
    if with_matrix:
        corpus = CorpusInteractions.from_explanations(with_matrix)
        for doc, e in zip(corpus.documents, with_matrix):
            assert doc["level"] == e.level and doc["offsets"] == [list(s) for s in e.offsets]
            want_rows = None if e.computed is None else sorted(set(e.meta["rows"]))
            assert doc["rows"] == want_rows
        assert CorpusInteractions.from_json(corpus.to_json()) == corpus
        assert all(np.isfinite([p.mean, p.mean_abs, p.total]).all() for p in corpus.top_pairs(None))


@pytest.mark.parametrize(("row", "combo"), CASES)
def test_task_explanations_survive_every_container(row, combo, tiny_task_model, tmp_path):
    name, options = combo
    model, tok = row.model(tiny_task_model)
    result = row.explainer(model, tok)(*row.single, steps=4, **{**row.kwargs, **options})
    items = explanations_of(result)
    for e in items:
        if "rows" in options:
            assert e.computed is not None and np.isnan(e.interactions[~e.computed]).all()
        if options.get("features") in ("token", "sentence"):
            assert e.level == options["features"]
        elif callable(options.get("features")):
            assert e.level == "spans"
    through_every_container(items, tmp_path)


# ---------------------------------------------------------------------------------------------------- hypothesis
WORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=6)
FLOATS = st.floats(allow_nan=False, allow_infinity=False, width=64)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | FLOATS | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def hand_made(draw):
    words = draw(st.lists(WORDS, min_size=1, max_size=6))
    level = draw(st.sampled_from(["word", "token", "sentence", "spans", "message"]))
    e = make_explanation(
        words,
        seed=draw(st.integers(0, 1000)),
        level=level,
        with_interactions=draw(st.booleans()),
        separator=draw(st.sampled_from([" ", "  ", " | "])),
        smoothing=draw(st.none() | st.just("softplus(beta=20)")),
        model_value=draw(st.none() | FLOATS),
        target_index=draw(st.none() | st.integers(0, 50_000)),
        word_groups=draw(st.none() | st.just([0] * len(words))),
        meta=draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4)),
    )
    if e.interactions is not None and draw(st.booleans()):
        rows = draw(st.lists(st.integers(0, len(words) - 1), min_size=1, max_size=len(words), unique=True))
        e = make_partial(e, rows)
    return e


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(hand_made(), min_size=1, max_size=3))
def test_hand_made_explanations_survive_every_container(items, tmp_path):
    through_every_container(items, tmp_path)


# ---------------------------------------------------------------------------------------------------- per token
def test_per_token_explain_dataset_stores_one_row_per_token(tiny_task_model, tmp_path):
    """``per_token=True`` in explain_dataset: one row per continuation token (its key ``[position]``), and
    ``results(ds)`` gives back the explainer's own lists."""
    model, tok = tiny_task_model("gpt2", "causal-lm")
    ex = CausalLMInteractionExplainer(model, tok)
    data = {"prompt": ["the film was", "a bad"], "answer": [" good film", " bad"]}
    direct = ex(data["prompt"], target=data["answer"], per_token=True, steps=4)
    ds = explain_dataset(
        ex,
        data,
        {"prompt": "prompt", "target": "answer"},
        per_token=True,
        steps=4,
        output_dir=tmp_path / "out",
        progress=False,
    )
    counts = [len(r) for r in direct]
    assert all(n >= 1 for n in counts) and len(ds) == sum(counts)
    assert ds["input_row"] == [r for r, n in enumerate(counts) for _ in range(n)]
    assert ds["explanation_key"] == [f"[{k}]" for n in counts for k in range(n)]
    back = results(ds)
    assert [len(r) for r in back] == counts
    for got, want in zip(back, direct):
        for a, b in zip(got, want):
            every_field_equal(a, b)
