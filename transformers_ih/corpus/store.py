"""The output folder of a corpus run: written as results are made, resumable.

::

    output_dir/
        manifest.json          the run's configuration (see .fingerprint) and, once done, "complete": true
        shards/000000.parquet  shard 0: its input rows + explanation columns (or .arrow: Arrow IPC stream)
        shards/000001.parquet  ...

A shard is written to a temporary file and renamed into place, so a file in ``shards/`` is always whole: a run
killed at any moment leaves whole shards and perhaps a temporary file (removed on the next run). Each shard
records, in its schema metadata, the configuration digest, its first row, its row count and a digest of its input
rows. Calling again with the same arguments keeps the finished shards (their input is checked against the
dataset) and explains the rest; a different configuration is refused, naming what changed. One run at a time
writes to a folder (an advisory lock, released by the system when the process dies).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from .fingerprint import config_digest, differences

__all__ = ["OutputStore", "FORMATS", "read_output"]

FORMATS = ("parquet", "arrow")
_META_KEY = b"transformers_ih"
MANIFEST_FORMAT = 1


class OutputStore:
    """One run's output folder (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, config: dict[str, Any], fmt: str = "parquet", *, overwrite=False):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.path = Path(path)
        self.shard_dir = self.path / "shards"
        self.config, self.format = config, fmt
        self.digest = config_digest(config)
        self._lock_file: IO[str] | None = None
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock()
        if overwrite:
            self._clear()
        self._check_manifest()
        self.shard_dir.mkdir(exist_ok=True)
        for stale in self.shard_dir.glob(".tmp-*"):
            stale.unlink(missing_ok=True)

    # ------------------------------------------------------------------ locking
    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no advisory lock
            return
        f = open(self.path / ".lock", "a+")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise RuntimeError(
                f"another run is writing to {str(self.path)!r} (it holds {str(self.path / '.lock')!r}); "
                f"wait for it to finish, or pick another output_dir"
            ) from None
        self._lock_file = f

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ manifest
    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def _clear(self) -> None:
        for f in list(self.shard_dir.glob("*")) if self.shard_dir.exists() else []:
            f.unlink()
        self.manifest_path.unlink(missing_ok=True)

    def _check_manifest(self) -> None:
        if not self.manifest_path.exists():
            if self.shard_dir.exists() and any(self.shard_dir.glob("[0-9]*")):
                raise ValueError(
                    f"{str(self.path)!r} holds shards but no manifest.json: not a folder this run can "
                    f"resume; pick another output_dir or pass overwrite=True"
                )
            self._write_manifest(complete=False)
            return
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(
                f"{str(self.manifest_path)!r} is not a transformers-ih corpus manifest ({err}); pick "
                f"another output_dir or pass overwrite=True"
            ) from None
        old = manifest.get("config")
        if not isinstance(old, dict) or manifest.get("format_version", 0) > MANIFEST_FORMAT:
            raise ValueError(
                f"{str(self.manifest_path)!r} was not written by this transformers-ih; pick another "
                f"output_dir or pass overwrite=True"
            )
        if manifest.get("format") != self.format:
            raise ValueError(
                f"{str(self.path)!r} holds {manifest.get('format')} shards; this call asks for "
                f"{self.format}: pass format={manifest.get('format')!r} to resume it"
            )
        if config_digest(old) != self.digest:
            changed = differences(old, self.config)
            raise ValueError(
                f"{str(self.path)!r} holds results of another configuration (changed: {', '.join(changed)}); "
                f"resuming would mix the two. Call with the same explainer, model, options and columns to resume, "
                f"or pick another output_dir, or pass overwrite=True to start again"
            )

    def _write_manifest(self, complete: bool, **extra) -> None:
        manifest = {
            "format_version": MANIFEST_FORMAT,
            "writer": "transformers-ih explain_dataset",
            "format": self.format,
            "config_digest": self.digest,
            "config": self.config,
            "complete": bool(complete),
            **extra,
        }
        _atomic_write(self.manifest_path, json.dumps(manifest, indent=1).encode("utf-8"))

    def mark_complete(self, num_rows: int, num_input_rows: int, num_shards: int) -> None:
        self._write_manifest(True, rows=num_rows, input_rows=num_input_rows, shards=num_shards)

    # ------------------------------------------------------------------ shards
    def shard_path(self, k: int) -> Path:
        return self.shard_dir / f"{k:06d}.{self.format}"

    def shard_info(self, k: int) -> dict[str, Any] | None:
        """The metadata of finished shard ``k`` (``None`` if not written yet)."""
        path = self.shard_path(k)
        if not path.exists():
            return None
        schema = _read_schema(path, self.format)
        raw = (schema.metadata or {}).get(_META_KEY)
        if raw is None:
            raise ValueError(
                f"{str(path)!r} is not a shard written by transformers-ih (no metadata); remove it or "
                f"pass overwrite=True"
            )
        info = json.loads(raw)
        if info.get("config_digest") != self.digest:
            raise ValueError(
                f"{str(path)!r} belongs to another configuration than its folder's manifest; remove it "
                f"or pass overwrite=True"
            )
        return info

    def finished(self) -> set[int]:
        return {int(p.stem) for p in self.shard_dir.glob(f"[0-9]*.{self.format}")}

    def write_shard(self, k: int, table: pa.Table, *, first_row: int, input_rows: int, input_digest: str) -> Path:
        info = {
            "config_digest": self.digest,
            "shard": k,
            "first_row": first_row,
            "input_rows": input_rows,
            "rows": table.num_rows,
            "input_digest": input_digest,
        }
        metadata = dict(table.schema.metadata or {})
        metadata[_META_KEY] = json.dumps(info).encode()
        table = table.replace_schema_metadata(metadata)
        tmp = self.shard_dir / f".tmp-{uuid.uuid4().hex}"
        try:
            _write_table(table, tmp, self.format)
            os.replace(tmp, self.shard_path(k))
        finally:
            tmp.unlink(missing_ok=True)
        return self.shard_path(k)

    def read(self, shards: list[int]):
        """The finished shards, in order, as one ``datasets.Dataset`` (Arrow shards memory-mapped)."""
        return read_output(self.path, shards=[self.shard_path(k) for k in shards], fmt=self.format)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_table(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _read_schema(path: Path, fmt: str) -> pa.Schema:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path)
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_stream(source).schema


def _without_metadata(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None)


def read_output(path: str | os.PathLike, *, shards: list[Path] | None = None, fmt: str | None = None):
    """The dataset in an :func:`~transformers_ih.explain_dataset` output folder (every finished shard, in order),
    as a ``datasets.Dataset``: the input's columns and the explanation columns."""
    import datasets

    path = Path(path)
    if fmt is None:
        manifest = path / "manifest.json"
        if not manifest.exists():
            raise FileNotFoundError(f"no manifest.json in {str(path)!r}: not an explain_dataset output folder")
        fmt = json.loads(manifest.read_text(encoding="utf-8")).get("format", "parquet")
    if shards is None:
        shards = sorted((path / "shards").glob(f"[0-9]*.{fmt}"))
    if fmt == "arrow":
        parts = [datasets.Dataset.from_file(str(p)) for p in shards]
        if not parts:
            return datasets.Dataset(pa.table({}))
        return datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    import pyarrow.parquet as pq

    tables = [_without_metadata(pq.read_table(p)) for p in shards]
    table = pa.concat_tables(tables) if tables else pa.table({})
    return datasets.Dataset(table)
