"""Explaining one shard: its input rows (an Arrow table) through one explainer call -> its output rows (the input
columns, repeated for tasks with several explanations per input: a dict of them, or a list, one per token; plus
the explanation columns). Both engines run exactly this, so a shard's results do not depend on the engine or on
which shards ran before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..results.explanation import Explanation
from .columns import explanation_row, rows_table

__all__ = ["ShardWork", "explain_table", "table_to_bytes", "table_from_bytes"]


@dataclass
class ShardWork:
    """What every shard is explained with: ``columns`` maps the explainer's arguments to dataset columns, ``call``
    holds the call's options and shared task arguments."""

    columns: dict[str, str]
    call: dict[str, Any] = field(default_factory=dict)


def explain_table(explainer, table: pa.Table, work: ShardWork, first_row: int) -> pa.Table:
    """One explainer call on the shard ``table`` (rows ``first_row, ...``) -> its output rows."""
    args = {argument: table.column(column).to_pylist() for argument, column in work.columns.items()}
    texts = [args.pop(name) for name in explainer.texts]
    results = explainer(*texts, **args, **work.call)
    rows, take = [], []
    for i, result in enumerate(results):
        if isinstance(result, Explanation):
            rows.append(explanation_row(result, first_row + i))
            take.append(i)
        elif isinstance(result, dict):
            for key, e in result.items():
                rows.append(explanation_row(e, first_row + i, key))
                take.append(i)
        elif isinstance(result, list):  # per_token=True: one row per token, its key [position]
            for position, e in enumerate(result):
                rows.append(explanation_row(e, first_row + i, [position]))
                take.append(i)
        else:  # pragma: no cover - every task returns one of the two
            raise TypeError(f"{type(explainer).__name__} returned {type(result).__name__} for row {first_row + i}")
    out = table.take(pa.array(take, type=pa.int64()))
    explained = rows_table(rows)
    for name in explained.column_names:
        out = out.append_column(explained.schema.field(name), explained.column(name))
    return out


def table_to_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_bytes(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()
