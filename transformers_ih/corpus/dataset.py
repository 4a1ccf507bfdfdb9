""":func:`explain_dataset`: explain every row of a dataset, shard by shard, resumable, here or on Ray."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from ..results.paths import check_output_folder
from ..text.progress import progress_bar
from ..text.requests import is_many
from .columns import EXPLANATION_COLUMNS
from .engines import get_engine
from .fingerprint import run_config
from .inputs import InputShards, argument_columns, check_columns, check_texts, load_input, table_hash
from .shard import ShardWork
from .store import FORMATS, OutputStore

__all__ = ["explain_dataset"]

DEFAULT_BATCH_SIZE = 32


def explain_dataset(
    explainer,
    dataset,
    column="sentence",
    *,
    output_dir: str | os.PathLike | None = None,
    engine="local",
    batch_size: int = DEFAULT_BATCH_SIZE,
    format: str = "parquet",
    split: str | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    **call_options: Any,
):
    """Explain every row of ``dataset`` with ``explainer``; returns a ``datasets.Dataset`` with the input's columns
    plus the explanation columns (see :mod:`.columns`; :func:`explanations` turns rows back into
    :class:`~transformers_ih.Explanation` objects, exactly).

    Args:
        explainer: any task explainer (``SequenceClassificationInteractionExplainer(model, tokenizer)``, ...).
        dataset: a ``datasets.Dataset`` or ``IterableDataset`` (read once, in order), a ``DatasetDict`` with
            ``split=``, a pandas DataFrame, a dict of columns, a file (``.csv``, ``.tsv``, ``.json``/``.jsonl``,
            ``.parquet``, ``.arrow``), a ``save_to_disk`` folder, or a hub dataset id.
        column: the text column; for two-text tasks a pair, ``("premise", "hypothesis")``; or a dict from the
            explainer's arguments to columns (``{"prompt": "prompt", "target": "continuation"}`` for a causal LM's
            per-row target).
        output_dir: write results there as they are made, one file per shard of ``batch_size`` rows (Parquet, or
            Arrow with ``format="arrow"``), and resume: called again with the same arguments, finished shards are
            kept and only the rest explained; a changed configuration (model weights, tokenizer, explainer
            settings, options, columns, shard size) is refused. ``overwrite=True`` starts again. ``None``: keep
            everything in memory.
        engine: ``"local"`` (this process), ``"ray"`` (a Ray cluster: :class:`RayEngine`, with its options when
            given as ``RayEngine(...)``).
        batch_size: rows per shard: one explainer call (whose texts share model calls) and one file.
        progress: one bar over texts with an ETA (``None``/``True``), or none (``False``). Written to a log or a
            pipe it prints a line at most every 30 s instead of redrawing.
        **call_options: the explainer's call options and task arguments, the same for every row (``target=``,
            ``interactions=False``, ``steps=``, ``output=``...).

    Raises ``ValueError`` / ``TypeError`` before any work for an ``output_dir`` that is a file or cannot be
    written, a missing column (naming the columns there are), an empty dataset, a text that is not a string or is
    empty (naming its row), and a configuration that differs from the one ``output_dir`` holds.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if output_dir is not None:
        output_dir = check_output_folder(output_dir, "output_dir")
    engine = get_engine(engine)
    dataset = load_input(dataset, split=split)
    columns = argument_columns(explainer, column)
    shared = {}
    for name, value in call_options.items():
        if name in getattr(explainer, "per_input", ()) and is_many(value):
            raise ValueError(
                f"{name} given once per row: name its column instead, column="
                f"{{{', '.join(repr(t) for t in explainer.texts)}: ..., {name!r}: 'your column'}} "
                f"(a single {name} for all rows may be passed as {name}=...)"
            )
        shared[name] = value
    if "progress" in shared:  # pragma: no cover - progress is this function's own argument
        raise TypeError("progress is explain_dataset's own argument")
    shards = InputShards(dataset, batch_size)
    if shards.column_names is not None:
        check_columns(shards.column_names, columns)
        _check_clash(shards.column_names)
    if shards.num_rows == 0:
        raise ValueError("the dataset has no rows: nothing to explain")
    explainer.resolve(_options_only(shared))  # bad option values fail here, before any work
    if not shards.streaming:  # every text checked before any work (an IterableDataset: shard by shard)
        text_columns = [c for a, c in columns.items() if a in explainer.texts]
        check_texts(
            dataset.select_columns(text_columns).with_format("arrow")[:],
            {a: c for a, c in columns.items() if a in explainer.texts},
            tuple(explainer.texts),
            0,
        )
    work = ShardWork(columns, shared)
    store = None
    if output_dir is not None:
        config = run_config(explainer, columns=columns, call=shared, batch_size=batch_size)
        config["input"] = {"rows": shards.num_rows, "columns": shards.column_names}
        config["output_columns"] = list(EXPLANATION_COLUMNS)  # a folder of another column set is not resumed
        store = OutputStore(output_dir, config, format, overwrite=overwrite)
    try:
        return _run(explainer, engine, work, shards, store, progress)
    finally:
        if store is not None:
            store.close()


def _options_only(call: dict[str, Any]):
    from ..text.options import ExplainOptions

    return ExplainOptions.pop_from(dict(call))


def _check_clash(names: list[str]) -> None:
    clash = [c for c in names if c in EXPLANATION_COLUMNS]
    if clash:
        raise ValueError(
            f"the dataset's column(s) {clash} have the names of explanation columns; rename them first, "
            f"e.g. dataset.rename_column({clash[0]!r}, {clash[0] + '_input'!r})"
        )


def _run(explainer, engine, work: ShardWork, shards: InputShards, store: OutputStore | None, progress):
    finished = store.finished() if store is not None else set()
    total = shards.num_rows
    digests: dict[int, str] = {}
    seen_columns = shards.column_names is not None
    results: dict[int, pa.Table] = {}
    input_rows: dict[int, int] = {}

    def pending():
        nonlocal seen_columns
        for k, first_row, table in shards.shards():
            if not seen_columns:  # an IterableDataset without features: check its columns on the first rows
                check_columns(table.column_names, work.columns)
                _check_clash(table.column_names)
                seen_columns = True
            input_rows[k] = table.num_rows
            digest = table_hash(table)
            if k in finished:
                info = store.shard_info(k)
                if info["input_digest"] != digest or info["first_row"] != first_row:
                    raise ValueError(
                        f"the input differs from the one {str(store.path)!r} was written from: rows "
                        f"{first_row}-{first_row + table.num_rows - 1} changed. Resume with the same "
                        f"dataset, or pick another output_dir, or pass overwrite=True"
                    )
                continue
            if shards.streaming:
                check_texts(table, work.columns, tuple(explainer.texts), first_row)
            digests[k] = digest
            yield k, first_row, table

    # the bar starts at the rows already written, so its rate and ETA are this run's
    initial = 0
    if store is not None:
        initial = sum(info["input_rows"] for info in map(store.shard_info, finished) if info is not None)
    show = progress is not False
    bar = progress_bar(total, initial=initial, desc="explaining", unit="text", smoothing=0.1) if show else None
    try:
        for k, out in engine.run(explainer, work, pending(), bar):
            if store is not None:
                store.write_shard(k, out, first_row=k * shards.size, input_rows=input_rows[k], input_digest=digests[k])
            else:
                results[k] = out
    finally:
        if bar is not None:
            bar.close()
    n_shards = len(input_rows)
    if n_shards == 0:
        raise ValueError("the dataset has no rows: nothing to explain")
    if store is None:
        tables = [results[k] for k in sorted(results)]
        import datasets

        return datasets.Dataset(pa.concat_tables(tables, promote_options="default"))
    out = store.read(list(range(n_shards)))
    store.mark_complete(len(out), sum(input_rows.values()), n_shards)
    return out
