"""The input side of :func:`~transformers_ih.explain_dataset`: a ``datasets`` dataset (or a file or hub dataset it
can load), the columns that feed the explainer's arguments, and input shards as Arrow tables.

Checked up front with messages that name the fix: a missing column (naming the columns there are), an empty
dataset, and values that are not strings (naming the row)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["load_input", "argument_columns", "InputShards", "check_texts", "FILE_BUILDERS"]

#: file suffix -> (``datasets`` builder, its keyword arguments)
FILE_BUILDERS = {
    ".csv": ("csv", {}),
    ".tsv": ("csv", {"delimiter": "\t"}),
    ".json": ("json", {}),
    ".jsonl": ("json", {}),
    ".parquet": ("parquet", {}),
    ".arrow": ("arrow", {}),
}


def load_input(source, *, split: str | None = None):
    """``source`` as a ``datasets.Dataset`` or ``IterableDataset``.

    Accepts a ``Dataset`` / ``IterableDataset`` as is; a ``DatasetDict`` with ``split`` (or its only split); a
    pandas DataFrame or a dict of columns; a file path (``.csv``, ``.tsv``, ``.json``/``.jsonl``, ``.parquet``,
    ``.arrow``) or a folder written by ``Dataset.save_to_disk``; any other string is a hub dataset id for
    ``datasets.load_dataset`` (``"glue/sst2"`` style ids with a config as ``"glue:sst2"``).
    """
    import datasets

    if isinstance(source, (datasets.Dataset, datasets.IterableDataset)):
        return source
    if isinstance(source, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return _one_split(source, split)
    if isinstance(source, dict):
        return _from_columns(source)
    if type(source).__name__ == "DataFrame":
        return datasets.Dataset.from_pandas(source, preserve_index=False)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
            return _maybe_split(datasets.load_from_disk(str(path)), split)
        builder = FILE_BUILDERS.get(path.suffix.lower())
        if builder is not None:
            if not path.exists():
                raise FileNotFoundError(f"no input file at {str(path)!r}")
            name, kwargs = builder
            return datasets.load_dataset(name, data_files=str(path), split=split or "train", **kwargs)
        if path.exists():
            raise ValueError(
                f"{str(path)!r}: unknown file type {path.suffix!r}; use one of "
                f"{sorted(FILE_BUILDERS)} or a folder written by Dataset.save_to_disk"
            )
        name, _, config = str(source).partition(":")
        return _maybe_split(datasets.load_dataset(name, config or None, split=split), split)
    raise TypeError(
        f"explain_dataset takes a datasets.Dataset / IterableDataset, a DatasetDict with split=, a "
        f"pandas DataFrame, a dict of columns, or a file path / hub dataset id; got "
        f"{type(source).__name__}"
    )


def _from_columns(columns: dict):
    """A dict of columns as a ``datasets.Dataset``; ``ValueError`` / ``TypeError`` naming the column that is not a
    list, or whose values are of mixed types (e.g. a number among texts), or the columns of different lengths."""
    import datasets
    import pyarrow as pa

    for name, values in columns.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(
                f"dataset: a dict of columns maps each column name to a list of values; column {name!r} is "
                f"{type(values).__name__}"
            )
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"dataset: the columns have different lengths {lengths}; give every column one value per row")
    try:
        return datasets.Dataset.from_dict(columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        for name, values in columns.items():  # the column whose values mix types, and its first odd row
            kinds = [type(v) for v in values]
            odd = next((i for i, k in enumerate(kinds) if k is not kinds[0]), None)
            if odd is not None:
                raise TypeError(
                    f"dataset: column {name!r} mixes value types: row 0 is {kinds[0].__name__}, row {odd} is "
                    f"{kinds[odd].__name__} ({values[odd]!r}); give the column one type (texts: strings)"
                ) from None
        raise ValueError(f"dataset: a dict of columns that Arrow cannot store ({err})") from None


def _maybe_split(d, split):
    import datasets

    if isinstance(d, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        return _one_split(d, split)
    return d


def _one_split(d, split):
    if split is not None:
        if split not in d:
            raise ValueError(f"no split {split!r}; the dataset has {list(d)}")
        return d[split]
    if len(d) == 1:
        return next(iter(d.values()))
    raise ValueError(
        f"the dataset has several splits {list(d)}: pick one, e.g. dataset[{next(iter(d))!r}] or "
        f"split={next(iter(d))!r}"
    )


def argument_columns(explainer, column) -> dict[str, str]:
    """``{explainer argument: dataset column}``: ``column`` is a column name (a one-text task's text), a
    sequence of names (the task's text arguments in order: two for pair tasks), or a dict (any text or per-input
    argument, e.g. a causal LM's ``{"prompt": "prompt", "target": "continuation"}``)."""
    texts = tuple(explainer.texts)
    allowed = texts + tuple(getattr(explainer, "per_input", ()))
    task = type(explainer).__name__
    if isinstance(column, str):
        if len(texts) != 1:
            raise ValueError(
                f"{task} takes {len(texts)} texts per input ({', '.join(texts)}): pass one column each, "
                f"column=({', '.join(repr(t) for t in texts)}) with your column names, or a dict"
            )
        return {texts[0]: column}
    if isinstance(column, dict):
        unknown = [a for a in column if a not in allowed]
        if unknown:
            raise ValueError(f"{task} has no per-input argument {unknown}; columns can feed {list(allowed)}")
        missing = [t for t in texts if t not in column]
        if missing:
            raise ValueError(f"no column for {task}'s text argument(s) {missing}")
        return {a: str(c) for a, c in column.items()}
    column = list(column)
    if len(column) != len(texts):
        raise ValueError(f"{task} takes {len(texts)} text column(s) ({', '.join(texts)}), got {len(column)}: {column}")
    return dict(zip(texts, (str(c) for c in column)))


def check_columns(columns: list[str], wanted: dict[str, str]) -> None:
    missing = [c for c in wanted.values() if c not in columns]
    if missing:
        raise ValueError(
            f"the dataset has no column {', '.join(repr(c) for c in missing)}; its columns are "
            f"{columns}: pass column= (e.g. column={columns[0]!r})"
            if columns
            else f"the dataset has no columns (no column {missing[0]!r})"
        )


def check_texts(table: pa.Table, wanted: dict[str, str], texts: tuple[str, ...], first_row: int) -> None:
    """``TypeError`` naming the first row whose text column holds a non-string (``None``, a number...), and
    ``ValueError`` naming the first empty (or whitespace-only) text."""
    for argument, column in wanted.items():
        if argument not in texts:
            continue
        for i, value in enumerate(table.column(column).to_pylist()):
            if not isinstance(value, str):
                raise TypeError(
                    f"row {first_row + i} of column {column!r} is {type(value).__name__} ({value!r}), "
                    f"not a string: every text must be a string (drop or fill such rows first, e.g. "
                    f"dataset.filter(lambda r: isinstance(r[{column!r}], str)))"
                )
            if not value.strip():
                raise ValueError(
                    f"row {first_row + i} of column {column!r} is empty ({value!r}): there are no "
                    f"words to explain (drop such rows first, e.g. dataset.filter(lambda r: "
                    f"r[{column!r}].strip()))"
                )


def table_hash(table: pa.Table) -> str:
    """A digest of an input shard's values (every column), to recognise the same input on resume."""
    h = hashlib.sha256()
    for name in table.column_names:
        h.update(name.encode())
        h.update(json.dumps(table.column(name).to_pylist(), sort_keys=True, default=repr).encode())
    return h.hexdigest()[:32]


class InputShards:
    """The input cut into shards of ``size`` rows (the last may be shorter): ``shards()`` yields ``(index, first
    row, Arrow table)``, reading an ``IterableDataset`` once, in order."""

    def __init__(self, dataset, size: int):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"batch_size must be a positive number of rows per shard, got {size!r}")
        self.dataset, self.size = dataset, size
        self.streaming = not hasattr(dataset, "__len__")
        self.num_rows = None if self.streaming else len(dataset)
        features = getattr(dataset, "features", None)
        names = getattr(dataset, "column_names", None)
        self.column_names = list(names) if names is not None else (list(features) if features is not None else None)
        self.schema = features.arrow_schema if features is not None else None
        self._arrow: Any = None if self.streaming else dataset.with_format("arrow")

    @property
    def num_shards(self) -> int | None:
        return None if self.num_rows is None else -(-self.num_rows // self.size)

    def shards(self) -> Iterator[tuple[int, int, pa.Table]]:
        num_rows, num_shards = self.num_rows, self.num_shards
        if num_rows is not None and num_shards is not None:
            for k in range(num_shards):
                start = k * self.size
                stop = min(start + self.size, num_rows)
                # (the arrow format keeps a selection's or filter's row order: not the raw table's slice)
                yield k, start, self._arrow[start:stop]
            return
        rows: list[dict] = []
        k = 0
        for row in self.dataset:
            rows.append(row)
            if len(rows) == self.size:
                yield k, k * self.size, self._table(rows)
                rows, k = [], k + 1
        if rows:
            yield k, k * self.size, self._table(rows)

    def _table(self, rows: list[dict]) -> pa.Table:
        if self.schema is not None:
            try:
                return pa.Table.from_pylist(rows, schema=self.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        return pa.Table.from_pylist(rows)
