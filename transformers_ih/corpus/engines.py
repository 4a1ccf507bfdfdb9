"""Where a corpus run's shards are explained: :class:`LocalEngine` (this process) or :class:`RayEngine` (a Ray
cluster, through Ray Data).

An engine gets the pending shards (``(index, first row, input table)``) and yields ``(index, output table)`` as
shards finish, in any order; :func:`~transformers_ih.explain_dataset` writes each as it comes. Every shard is
one explainer call on exactly its rows (:func:`.shard.explain_table`), so engines agree to float rounding.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
import resource
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..tasks.base import TextInteractionExplainer
from ..text.progress import counting_into
from .fingerprint import model_digest
from .shard import ShardWork, explain_table, table_from_bytes, table_to_bytes

__all__ = ["Engine", "LocalEngine", "RayEngine", "get_engine", "ExplainerSpec"]

Shard = tuple[int, int, pa.Table]


class Engine:
    """Base of the engines: ``run(explainer, work, shards, bar)`` yields ``(index, output table)``."""

    name = "engine"

    def run(self, explainer, work: ShardWork, shards: Iterable[Shard], bar=None) -> Iterator[tuple[int, pa.Table]]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name}


class LocalEngine(Engine):
    """Explain the shards one after another in this process, with the explainer as it is (its model, device and
    threads)."""

    name = "local"

    def run(self, explainer, work, shards, bar=None):
        quiet = copy.copy(explainer)  # the explainer's own bars off: the run's bar counts texts
        quiet.progress = False
        for k, first_row, table in shards:
            with counting_into(bar, table.num_rows):
                out = explain_table(quiet, table, work, first_row)
            yield k, out


# ---------------------------------------------------------------------------------------------------- Ray
RAY_MISSING = (
    "engine='ray' needs Ray with Ray Data, an optional extra of transformers-ih: "
    'pip install "transformers-ih[ray]"  (or: pip install "ray[data]")'
)


def import_ray():
    """``ray`` and ``ray.data``, imported only when asked for, with the install command when missing."""
    try:
        import ray
        import ray.data
    except ImportError as err:
        raise ImportError(f"{RAY_MISSING} ({err})") from None
    return ray


@dataclass
class ExplainerSpec:
    """How a worker rebuilds the explainer: its class, the model as a path or hub id each worker loads with
    ``from_pretrained`` (never a pickled model), the tokenizer's path, the settings, and the digest of the weights
    the worker must find."""

    explainer_class: type[Any]
    model_class: type[Any]
    model_id: str
    tokenizer_id: str
    dtype: str
    weights: str
    settings: dict[str, Any] = field(default_factory=dict)
    max_padding: float | None = None

    @classmethod
    def of(cls, explainer, model_id: str | None = None, tokenizer_id: str | None = None) -> ExplainerSpec:
        model, tokenizer = explainer.model, explainer.tokenizer
        model_id = model_id or getattr(getattr(model, "config", None), "_name_or_path", None)
        tokenizer_id = tokenizer_id or getattr(tokenizer, "name_or_path", None) or model_id
        if not model_id:
            raise ValueError(
                "engine='ray' ships the model to its workers as a path or hub id that each worker loads "
                "with from_pretrained, and this model has none (config._name_or_path is empty): save it "
                "with model.save_pretrained(path) and tokenizer.save_pretrained(path), load it from "
                "there, or pass RayEngine(model=path)"
            )
        params = next(iter(model.parameters()))
        # every setting of the explainer (the task's own too), set on the worker's explainer after it is built
        settings = {
            name: value
            for name, value in vars(explainer).items()
            if not name.startswith("_") and name not in ("model", "tokenizer")
        }
        settings["progress"] = False
        return cls(
            type(explainer),
            type(model),
            str(model_id),
            str(tokenizer_id),
            str(params.dtype).split(".")[-1],
            model_digest(model),
            settings,
            explainer.max_padding,
        )

    def build(self, device: str | None = None):
        import torch
        from transformers import AutoTokenizer

        model = self.model_class.from_pretrained(self.model_id)
        model = model.to(getattr(torch, self.dtype))
        found = model_digest(model)
        if found != self.weights:
            raise RuntimeError(
                f"the model a Ray worker loaded from {self.model_id!r} is not the explainer's model (its weights "
                f"differ): workers load the model from its path or hub id, so save the model you explain there "
                f"(model.save_pretrained) or pass RayEngine(model=path) pointing at it"
            )
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        model = model.to(device)
        tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_id)
        init = inspect.signature(TextInteractionExplainer.__init__).parameters
        explainer = self.explainer_class(model, tokenizer, **{k: v for k, v in self.settings.items() if k in init})
        for name, value in self.settings.items():  # and the task's own settings, as the explainer had them
            setattr(explainer, name, value)
        if self.max_padding is not None:
            explainer.max_padding = self.max_padding
        return explainer


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _RayWorker:
    """A Ray Data actor: loads the model once (``from_pretrained``), then explains one shard per call."""

    def __init__(self, spec: ExplainerSpec, work: ShardWork, threads: int | None):
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.work = work
        self.explainer = spec.build()
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.loaded_rss_mb = _peak_rss_mb()

    def __call__(self, batch: pa.Table) -> pa.Table:
        out: dict[str, list[Any]] = {
            "shard": [],
            "output": [],
            "worker": [],
            "seconds": [],
            "peak_rss_mb": [],
            "loaded_rss_mb": [],
        }
        shards, firsts, inputs = (batch.column(c).to_pylist() for c in ("shard", "first_row", "input"))
        for k, first_row, data in zip(shards, firsts, inputs):
            t0 = time.perf_counter()
            table = explain_table(self.explainer, table_from_bytes(data), self.work, first_row)
            out["shard"].append(k)
            out["output"].append(table_to_bytes(table))
            out["worker"].append(self.name)
            out["seconds"].append(time.perf_counter() - t0)
            out["peak_rss_mb"].append(_peak_rss_mb())
            out["loaded_rss_mb"].append(self.loaded_rss_mb)
        return pa.table(out)


class RayEngine(Engine):
    """Explain the shards on a Ray cluster with Ray Data: ``map_batches`` with a callable class, so each of the
    ``workers`` actors loads the model once (from its path or hub id, with ``from_pretrained``; the model is never
    pickled) and explains one shard per call.

    Args:
        address: the cluster to connect to (``"auto"``: the one started on this machine with ``ray start``;
            ``"ray://host:10001"``: a remote one). Default: ``$RAY_ADDRESS`` when set, a cluster this process is
            already connected to (``ray.init(...)`` called before), else a local cluster started here with
            ``num_cpus`` CPUs, a small object store, no dashboard and no usage statistics
            (``RAY_USAGE_STATS_ENABLED=0`` unless set).
        workers: actors (default: one per GPU when the cluster has GPUs, else one per ``cpus_per_worker`` of the
            cluster's CPUs).
        cpus_per_worker: CPUs each actor reserves (and its torch threads).
        gpus_per_worker: GPUs each actor reserves (default 1 when the cluster has GPUs, else 0); the model then
            runs on the actor's GPU.
        model, tokenizer: path or hub id each worker loads (default: the explainer's model's
            ``config._name_or_path`` and the tokenizer's ``name_or_path``). Workers check that the weights they
            load are the explainer's.
        num_cpus, object_store_memory: for a local cluster started here (default: this machine's CPUs, 256 MiB).
        init_kwargs: more keyword arguments for ``ray.init``.
        window: shards handed to Ray per execution (bounds the driver's memory for large inputs).

    After a run, :attr:`stats` lists every shard's worker, seconds and the worker's peak memory.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        cpus_per_worker: float = 1,
        gpus_per_worker: float | None = None,
        model: str | None = None,
        tokenizer: str | None = None,
        num_cpus: int | None = None,
        object_store_memory: int | None = 256 * 2**20,
        init_kwargs: dict[str, Any] | None = None,
        window: int = 256,
    ):
        self.address, self.workers = address, workers
        self.cpus_per_worker, self.gpus_per_worker = cpus_per_worker, gpus_per_worker
        self.model, self.tokenizer = model, tokenizer
        self.num_cpus, self.object_store_memory = num_cpus, object_store_memory
        self.init_kwargs = dict(init_kwargs or {})
        self.window = window
        self.stats: list[dict[str, Any]] = []
        self.started_local = False

    def describe(self) -> dict[str, Any]:
        return {
            "engine": self.name,
            "workers": self.workers,
            "cpus_per_worker": self.cpus_per_worker,
            "gpus_per_worker": self.gpus_per_worker,
        }

    def connect(self):
        """Connect to the cluster (or start a local one); returns the ``ray`` module."""
        ray = import_ray()
        if ray.is_initialized():
            return ray
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        kwargs = {"logging_level": logging.WARNING, "log_to_driver": False, **self.init_kwargs}
        if address:
            ray.init(address=address, **kwargs)
        else:
            # a cluster of our own sends Ray's usage statistics nowhere unless the user asked for them
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            local = {"num_cpus": self.num_cpus or os.cpu_count() or 1, "include_dashboard": False}
            if self.object_store_memory:
                local["object_store_memory"] = int(self.object_store_memory)
            ray.init(address="local", **{**local, **kwargs})
            self.started_local = True
        return ray

    def _resources(self, ray) -> tuple[int, float, float]:
        total = ray.cluster_resources()
        gpus = float(total.get("GPU", 0))
        per_gpu = self.gpus_per_worker if self.gpus_per_worker is not None else (1.0 if gpus >= 1 else 0.0)
        if self.workers is not None:
            workers = int(self.workers)
        elif per_gpu:
            workers = max(1, int(gpus // per_gpu))
        else:
            workers = max(1, int(float(total.get("CPU", 1)) // self.cpus_per_worker))
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        return workers, float(self.cpus_per_worker), float(per_gpu)

    def run(self, explainer, work, shards, bar=None):
        ray = self.connect()
        import ray.data as rd

        spec = ExplainerSpec.of(explainer, self.model, self.tokenizer)
        workers, cpus, gpus = self._resources(ray)
        threads = max(1, int(cpus)) if not gpus else None
        self.stats = []
        context = rd.DataContext.get_current()
        saved = (getattr(context, "enable_progress_bars", None), getattr(context, "print_on_execution_start", None))
        quiet_logs = logging.getLogger("ray.data")
        saved_level = quiet_logs.level
        context.enable_progress_bars = False  # the run's own bar counts texts; no per-operator bars in logs
        if saved[1] is not None:
            context.print_on_execution_start = False
        quiet_logs.setLevel(logging.WARNING)
        try:
            pending: list[Shard] = []
            for shard in shards:
                pending.append(shard)
                if len(pending) >= self.window:
                    yield from self._execute(rd, pending, spec, work, workers, cpus, gpus, threads, bar)
                    pending = []
            if pending:
                yield from self._execute(rd, pending, spec, work, workers, cpus, gpus, threads, bar)
        finally:
            context.enable_progress_bars = saved[0]
            if saved[1] is not None:
                context.print_on_execution_start = saved[1]
            quiet_logs.setLevel(saved_level)

    def _execute(self, rd, pending, spec, work, workers, cpus, gpus, threads, bar):
        sizes = {k: table.num_rows for k, _, table in pending}
        # one block (and one map call) per shard, so each shard is one explainer call on exactly its rows
        blocks = [
            pa.table({"shard": [k], "first_row": [first_row], "input": [table_to_bytes(table)]})
            for k, first_row, table in pending
        ]
        ds = rd.from_arrow(blocks)
        remote = {"num_cpus": cpus}
        if gpus:
            remote["num_gpus"] = gpus
        mapped = ds.map_batches(
            _RayWorker,
            fn_constructor_args=(spec, work, threads),
            batch_size=1,
            batch_format="pyarrow",
            compute=rd.ActorPoolStrategy(size=min(workers, len(blocks))),
            zero_copy_batch=True,
            **remote,
        )
        try:
            for batch in mapped.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0):
                for row in batch.to_pylist():
                    k = int(row["shard"])
                    self.stats.append(
                        {
                            "shard": k,
                            "rows": sizes[k],
                            "worker": row["worker"],
                            "seconds": row["seconds"],
                            "peak_rss_mb": row["peak_rss_mb"],
                            "loaded_rss_mb": row["loaded_rss_mb"],
                        }
                    )
                    if bar is not None:
                        bar.update(sizes[k])
                    yield k, table_from_bytes(row["output"])
        except Exception as err:  # a worker's error (bad text, wrong model): raised as its own type
            cause = getattr(err, "cause", None)
            if isinstance(cause, (ValueError, TypeError, RuntimeError)):
                try:
                    again = type(cause)(f"on a Ray worker: {cause}")
                except Exception:
                    raise err from None
                raise again from err
            raise

    def worker_memory(self) -> dict[str, float]:
        """Peak resident memory (MiB) of each worker in the last run."""
        out: dict[str, float] = {}
        for s in self.stats:
            out[s["worker"]] = max(out.get(s["worker"], 0.0), s["peak_rss_mb"])
        return out


def get_engine(engine) -> Engine:
    if isinstance(engine, Engine):
        return engine
    if engine == "local" or engine is None:
        return LocalEngine()
    if engine == "ray":
        return RayEngine()
    raise ValueError(
        f"engine must be 'local', 'ray' or an engine object (LocalEngine(), RayEngine(...)); got {engine!r}"
    )
