"""Explanations as Arrow columns and back, exactly.

One output row per explanation: the input row's columns, then :data:`EXPLANATION_COLUMNS`. A task whose result
for one input is one :class:`~transformers_ih.Explanation` gives one row per input; a task that returns
``{key: Explanation}`` (question answering's ``"start"``/``"end"``, multi-label, zero-shot, token classification)
gives one row per key, with the input's columns repeated and the key in ``explanation_key`` (as JSON, so integer
keys stay integers). ``input_row`` is the input's row number.

Numbers are float64 and int64, arrays nested lists of float64, ``meta`` JSON text (written with ``repr``
precision): a row turns back into an Explanation equal (``==``) to the one written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from ..results.explanation import Explanation

__all__ = [
    "EXPLANATION_SCHEMA",
    "EXPLANATION_COLUMNS",
    "explanation_row",
    "explanation_from_row",
    "rows_table",
    "explanation_rows",
    "explanations",
    "results",
    "key_to_text",
    "key_from_text",
]

_F64 = pa.float64()
_I64 = pa.int64()

EXPLANATION_SCHEMA = pa.schema(
    [
        pa.field("input_row", _I64, nullable=False),
        pa.field("explanation_key", pa.string()),
        pa.field("explained_text", pa.string()),
        pa.field("words", pa.list_(pa.string())),
        pa.field("offsets", pa.list_(pa.list_(_I64))),
        pa.field("tokens", pa.list_(pa.string())),
        pa.field("attributions", pa.list_(_F64)),
        pa.field("interactions", pa.list_(pa.list_(_F64))),
        pa.field("target", pa.string()),
        pa.field("target_index", _I64),
        pa.field("target_kind", pa.string()),
        pa.field("predicted_label", pa.string()),
        pa.field("predicted_probability", _F64),
        pa.field("f_input", _F64),
        pa.field("f_baseline", _F64),
        pa.field("completeness_error", _F64),
        pa.field("steps", _I64),
        pa.field("method", pa.string()),
        pa.field("baseline", pa.string()),
        pa.field("smoothing", pa.string()),
        pa.field("model_value", _F64),
        pa.field("output", pa.string()),
        pa.field("word_groups", pa.list_(_I64)),
        pa.field("separator", pa.string()),
        pa.field("meta", pa.string()),
    ]
)
EXPLANATION_COLUMNS = tuple(EXPLANATION_SCHEMA.names)

# Explanation field -> column, where the names differ
_RENAMED = {"text": "explained_text"}
_COLUMN_OF = {
    f: _RENAMED.get(f, f)
    for f in (
        "text",
        "words",
        "offsets",
        "tokens",
        "attributions",
        "interactions",
        "target",
        "target_index",
        "target_kind",
        "predicted_label",
        "predicted_probability",
        "f_input",
        "f_baseline",
        "completeness_error",
        "steps",
        "method",
        "baseline",
        "smoothing",
        "model_value",
        "output",
        "word_groups",
        "separator",
    )
}


def key_to_text(key: Any) -> str | None:
    """An explanation's key in its input's result, as JSON (``None`` for a task giving one Explanation)."""
    return None if key is None else json.dumps(key)


def key_from_text(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def explanation_row(e: Explanation, input_row: int, key: Any = None) -> dict[str, Any]:
    """One output row (the explanation columns) of ``e``."""
    d = e.to_dict()
    row = {column: d[field] for field, column in _COLUMN_OF.items()}
    row["meta"] = json.dumps(d["meta"])
    row["input_row"] = int(input_row)
    row["explanation_key"] = key_to_text(key)
    return row


def explanation_from_row(row: dict[str, Any]) -> Explanation:
    """The :class:`~transformers_ih.Explanation` of one output row (a dict with the explanation columns)."""
    missing = [c for c in EXPLANATION_COLUMNS if c not in row]
    if missing:
        raise ValueError(f"not a row of explain_dataset's output: the columns {missing} are missing")
    d = {field: row[column] for field, column in _COLUMN_OF.items()}
    d["meta"] = json.loads(row["meta"]) if row["meta"] is not None else {}
    return Explanation.from_dict(d)


def rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The explanation columns of ``rows`` as an Arrow table with :data:`EXPLANATION_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=EXPLANATION_SCHEMA)


def explanation_rows(dataset) -> Iterable[dict[str, Any]]:
    """The explanation columns of each row of an :func:`~transformers_ih.explain_dataset` output (a
    ``datasets.Dataset``, an Arrow table, or an iterable of row dicts, passed through as they are), one dict per row,
    in row order. A ``datasets.Dataset`` is read 256 rows at a time and only its explanation columns, so iterating
    never holds a large output whole as Python objects; ``ValueError`` names the explanation columns it lacks."""
    if isinstance(dataset, pa.Table):
        yield from dataset.select(list(EXPLANATION_COLUMNS)).to_pylist()
        return
    columns = getattr(dataset, "column_names", None)
    if columns is not None and hasattr(dataset, "select_columns"):  # a datasets.Dataset: only the needed columns
        missing = [c for c in EXPLANATION_COLUMNS if c not in columns]
        if missing:
            raise ValueError(f"not a dataset written by explain_dataset: the columns {missing} are missing")
        dataset = dataset.select_columns(list(EXPLANATION_COLUMNS))
        for start in range(0, len(dataset), 256):
            batch = dataset[start : start + 256]
            n = len(batch["input_row"])
            yield from ({c: batch[c][i] for c in EXPLANATION_COLUMNS} for i in range(n))
        return
    yield from dataset


def explanations(dataset) -> list[Explanation]:
    """Every row of an :func:`~transformers_ih.explain_dataset` output (a ``datasets.Dataset``, an Arrow table or an
    iterable of row dicts) as an :class:`~transformers_ih.Explanation`, in row order."""
    return [explanation_from_row(row) for row in explanation_rows(dataset)]


def results(dataset) -> list[Any]:
    """The explainer's own results, one per input row, as ``explainer(texts)`` returns them: an Explanation, or
    ``{key: Explanation}`` for tasks with several per input."""
    out: dict[int, Any] = {}
    for row in explanation_rows(dataset):
        e, key = explanation_from_row(row), key_from_text(row["explanation_key"])
        r = int(row["input_row"])
        if key is None:
            out[r] = e
        else:
            out.setdefault(r, {})[key] = e
    return [out[r] for r in sorted(out)]
