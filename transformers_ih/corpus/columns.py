"""Explanations as Arrow columns and back, exactly.

One output row per explanation: the input row's columns, then :data:`EXPLANATION_COLUMNS`. A task whose result
for one input is one :class:`~transformers_ih.Explanation` gives one row per input; a task that returns
``{key: Explanation}`` (question answering's ``"start"``/``"end"``, multi-label, zero-shot, token classification)
gives one row per key, with the input's columns repeated and the key in ``explanation_key`` (as JSON, so integer
keys stay integers); a task that returns a list (``per_token=True``: one explanation per continuation token) gives
one row per item, its key the JSON list ``[position]``. ``input_row`` is the input's row number.

The columns are made from the fields of :class:`~transformers_ih.Explanation` themselves, so a field added to it
is stored with no change here: ``text`` is the column ``explained_text``, every other field a column of its own
name. Fields of a plain type (``str``, ``int``, ``float``, ``bool``, lists of those, offsets) are Arrow columns of
that type (float64, int64); ``attributions`` is a list of float64, ``interactions`` a list of lists of float64 (NaN
where not computed), ``computed`` a list of lists of bool; any other field (``meta``, a dict, an array not listed
here) is the JSON text of its :meth:`~transformers_ih.Explanation.to_dict` value, written with ``repr`` precision.
A row turns back into an Explanation equal (``==``) to the one written, checked on the way as a loaded JSON file is
(:mod:`transformers_ih.results.validation`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from ..results.explanation import Explanation
from ..results.validation import plain_annotation

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

# a field's annotation (as results.validation.plain_annotation reads it: no "| None", no spaces) -> its Arrow
# type; a field of any other type is stored as JSON text
_PLAIN_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": _I64,
    "float": _F64,
    "bool": pa.bool_(),
    "list[str]": pa.list_(pa.string()),
    "list[int]": pa.list_(_I64),
    "list[float]": pa.list_(_F64),
    "list[tuple[int,int]]": pa.list_(pa.list_(_I64)),
}
# the array fields whose dimensions are known (others: JSON text)
_ARRAY_TYPES: dict[str, pa.DataType] = {
    "attributions": pa.list_(_F64),
    "interactions": pa.list_(pa.list_(_F64)),
    "computed": pa.list_(pa.list_(pa.bool_())),
}
# Explanation field -> column, where the names differ
_RENAMED = {"text": "explained_text"}


def _arrow_type(f: dataclasses.Field) -> pa.DataType | None:
    """The Arrow type of field ``f``'s column, or ``None`` for a JSON-text column."""
    if f.name in _ARRAY_TYPES:
        return _ARRAY_TYPES[f.name]
    return _PLAIN_TYPES.get(plain_annotation(f.type)[0])


_FIELDS = [f for f in dataclasses.fields(Explanation) if f.init]
_COLUMN_OF = {f.name: _RENAMED.get(f.name, f.name) for f in _FIELDS}
_JSON_FIELDS = frozenset(f.name for f in _FIELDS if _arrow_type(f) is None)

EXPLANATION_SCHEMA = pa.schema(
    [pa.field("input_row", _I64, nullable=False), pa.field("explanation_key", pa.string())]
    + [pa.field(_COLUMN_OF[f.name], _arrow_type(f) or pa.string()) for f in _FIELDS]
)
EXPLANATION_COLUMNS = tuple(EXPLANATION_SCHEMA.names)


def key_to_text(key: Any) -> str | None:
    """An explanation's key in its input's result, as JSON (``None`` for a task giving one Explanation)."""
    return None if key is None else json.dumps(key)


def key_from_text(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def explanation_row(e: Explanation, input_row: int, key: Any = None) -> dict[str, Any]:
    """One output row (the explanation columns) of ``e``: every field of the Explanation (module docstring)."""
    d = e.to_dict()
    row = {column: json.dumps(d[name]) if name in _JSON_FIELDS else d[name] for name, column in _COLUMN_OF.items()}
    row["input_row"] = int(input_row)
    row["explanation_key"] = key_to_text(key)
    return row


def explanation_from_row(row: dict[str, Any]) -> Explanation:
    """The :class:`~transformers_ih.Explanation` of one output row (a dict with the explanation columns);
    ``ValueError`` naming the columns it lacks (a row written by an earlier transformers-ih, which stored fewer
    fields: explain the dataset again) or the field that does not hold a valid explanation."""
    if not isinstance(row, dict):
        raise TypeError(f"an explain_dataset row is a dict of its columns, got {type(row).__name__}")
    missing = [c for c in EXPLANATION_COLUMNS if c not in row]
    if missing:
        raise ValueError(
            f"not a row of this transformers-ih's explain_dataset output: the columns {missing} are missing "
            f"(an output written by an earlier version stores fewer fields: explain the dataset again)"
        )
    d: dict[str, Any] = {}
    for name, column in _COLUMN_OF.items():
        value = row[column]
        if name in _JSON_FIELDS and value is not None:
            try:
                value = json.loads(value)
            except (TypeError, json.JSONDecodeError):
                raise ValueError(
                    f"the column {column!r} must hold the JSON text explain_dataset wrote, got {value!r:.80}; "
                    f"restore the column as written, or explain the dataset again"
                ) from None
        d[name] = value
    if d.get("meta") is None:
        d["meta"] = {}
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
    """The explainer's own results, one per input row, as ``explainer(texts)`` returns them: an Explanation,
    ``{key: Explanation}`` for tasks with several per input, or a list (``per_token=True``)."""
    out: dict[int, Any] = {}
    for row in explanation_rows(dataset):
        e, key = explanation_from_row(row), key_from_text(row["explanation_key"])
        r = int(row["input_row"])
        if key is None:
            out[r] = e
        elif isinstance(key, list):  # [position] in a list result
            out.setdefault(r, []).append((key[0], e))
        else:
            out.setdefault(r, {})[key] = e
    return [
        [e for _, e in sorted(out[r], key=lambda item: item[0])] if isinstance(out[r], list) else out[r]
        for r in sorted(out)
    ]
