"""Calling ``f`` in chunks of bounded size: the row cap (batch size and, on the CPU, an element budget) and the
out-of-memory retry that halves the batch. A mixin of :class:`~.reduction.ReducedFunction`."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch


def is_out_of_memory(err: RuntimeError) -> bool:
    """CUDA's ``torch.OutOfMemoryError``, or the CPU allocator's plain ``RuntimeError`` ("can't allocate
    memory")."""
    message = str(err).lower()
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in message or "can't allocate memory" in message


def is_batching_failure(err: RuntimeError) -> bool:
    """Whether an error comes from batching the Hessian-vector products over directions (vmap over a backward
    formula), rather than from the function itself (which is re-raised, not retried)."""
    message = str(err).lower()
    return any(key in message for key in ("vmap", "batching rule", "batched", "is_grads_batched", "functorch"))


class ChunkedEvaluation:
    """The chunking of :class:`~.reduction.ReducedFunction`'s evaluations (a mixin: it reads the instance's
    ``batch_size`` (rows per call of ``f``, lowered on out-of-memory), ``max_batch_elements`` (the CPU's element
    budget, or ``None``) and ``_row_numel`` (input entries per row))."""

    # set by the class this is mixed into (declared for type checking only)
    batch_size: int
    max_batch_elements: int | None
    _row_numel: int

    # measured with a 6-layer DistilBERT (dim 384) on a 512-token input (benchmarks/bench_hvp_strategy.py): with
    # this budget (5 rows of 512 x 384 entries per gradient call, 2 per second-order call) Integrated Gradients
    # peaks at 1.0 GB (model and libraries included; 2.5 GB before, with 29 rows per call) and Integrated
    # Hessians' search and products at 2.6 GB (9.3 GB before)
    CPU_MAX_BATCH_ELEMENTS = 1_000_000
    # memory of one row, relative to a gradient (forward + backward), for the CPU's element budget
    _MEMORY_WEIGHT = {"gradient": 1.0, "second": 2.0, "batched": 2.0, "loop": 2.0, "forward": 1.5, "copies": 2.0}

    def _row_cap(self, weight: str = "gradient") -> int:
        """The most rows per call of ``f`` for a pass of ``weight`` (see :attr:`_MEMORY_WEIGHT`): the batch size,
        and on the CPU the element budget ``max_batch_elements``."""
        cap = self.batch_size
        if self.max_batch_elements is not None:
            per_row = self._row_numel * self._MEMORY_WEIGHT[weight]
            cap = min(cap, max(1, int(self.max_batch_elements / per_row)))
        return cap

    def _each_chunk(self, n: int, work: Callable[[int, int], None], cost: int = 1, weight: str = "gradient") -> None:
        """Call ``work(lo, hi)`` on consecutive chunks of ``n`` items of ``cost`` rows each, at most
        :meth:`_row_cap` rows (and at least one item) at a time. On out-of-memory (e.g. CUDA) the batch
        size is halved (for the rest of this function's life) and the chunk retried; at one row it re-raises."""
        lo = 0
        while lo < n:
            hi = min(n, lo + max(1, self._row_cap(weight) // cost))
            try:
                work(lo, hi)
            except RuntimeError as err:  # torch.OutOfMemoryError (CUDA) is a RuntimeError too
                if not is_out_of_memory(err) or self.batch_size <= 1:
                    raise
                self.batch_size = max(1, min(self.batch_size, (hi - lo) * cost) // 2)
                warnings.warn(
                    f"out of memory: retrying with internal_batch_size={self.batch_size}", ResourceWarning, stacklevel=3
                )
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            lo = hi
