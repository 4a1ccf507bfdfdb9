"""Hessian-vector products of the reduced function along the straight path: the ``G x G`` Hessians (or selected
columns of them) of ``g(c) = f(s + sum_g c_g Delta_g)`` at points ``c = t * 1``, by one of several strategies.

A mixin of :class:`~.reduction.ReducedFunction` (:class:`HessianVectorProducts`); the two entry points are
:meth:`~HessianVectorProducts.hessians` (full matrices) and :meth:`~HessianVectorProducts.hessian_columns`
(selected columns and the product with the path direction), each returning one fixed record.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
import torch

from .batching import is_batching_failure, is_out_of_memory

HVP_STRATEGIES = ("auto", "batched", "loop", "forward", "copies")


class PathHessians(NamedTuple):
    """Full Hessians of ``g`` at ``K`` path points (float64; entries past a problem's own ``G_n`` groups are 0).

    Attributes:
        values: ``(K,)`` ``g(t_k * 1)``, in units of ``f``.
        grads: ``(K, G)`` the gradient of ``g`` there.
        hess: ``(K, G, G)`` the Hessian; ``hess[k, i]`` is the product with ``e_i`` (row ``i``).
    """

    values: np.ndarray
    grads: np.ndarray
    hess: np.ndarray


class HessianColumns(NamedTuple):
    """Selected columns of the Hessians of ``g`` at ``K`` path points, and the product with the path direction.

    Attributes:
        values: ``(K,)`` ``g(t_k * 1)``.
        grads: ``(K, G)`` the gradient of ``g`` there.
        hess: ``(K, G, G)``: ``hess[k, :, j] = H(t_k) e_j`` (column ``j``, by symmetry also row ``j``) for the
            selected ``j``, ``NaN`` in every column not computed (a problem given ``None``: its full Hessian).
        along: ``(K, G)`` ``H(t_k) @ 1`` (``NaN`` at points of problems given ``None``).
    """

    values: np.ndarray
    grads: np.ndarray
    hess: np.ndarray
    along: np.ndarray


class HessianVectorProducts:
    """The Hessian-vector products of :class:`~.reduction.ReducedFunction` (a mixin: it reads the instance's
    groups, dtype, device, ``hvp_strategy`` and chunking, and counts products in ``hvp_count``)."""

    # set and defined by the class this is mixed into (declared for type checking only)
    num_groups: int
    num_groups_each: list[int]
    num_problems: int
    hvp_strategy: str
    hvp_count: int
    dtype: torch.dtype
    device: torch.device
    _row_numel: int
    _batching_failed: bool

    if TYPE_CHECKING:

        def __call__(self, c: torch.Tensor, problems: torch.Tensor | None = None) -> torch.Tensor: ...
        def _problems(self, problems, n: int) -> np.ndarray: ...
        def _tensor(self, values, dtype=None) -> torch.Tensor: ...
        def _check_finite(self, ts: np.ndarray, problems: np.ndarray, checks) -> None: ...
        def _mask_columns(self, arr: np.ndarray, problems: np.ndarray) -> np.ndarray: ...
        def _row_cap(self, weight: str = "gradient") -> int: ...
        def _each_chunk(
            self, n: int, work: Callable[[int, int], None], cost: int = 1, weight: str = "gradient"
        ) -> None: ...

    def hessians(self, ts: np.ndarray, problems=None, progress=None) -> PathHessians:
        """Values, gradients and full Hessians of ``g`` at ``t * 1`` for each ``t`` in ``ts`` (problems
        ``problems``, default all 0): ``G_n`` products per point (one per group of the point's problem).

        How the products are computed (:attr:`hvp_strategy`; every strategy gives the same values to rounding),
        per chunk of points of one direction set, after one forward and one graph-keeping backward pass:

        * ``"batched"``: one backward pass batched over the directions
          (``torch.autograd.grad(..., is_grads_batched=True)``, a ``vmap`` of the backward formula);
        * ``"loop"``: one double-backward pass per direction over the retained graph (``retain_graph=True``);
        * ``"forward"``: forward-over-reverse, ``torch.func.jvp`` of ``torch.func.grad`` per direction (no graph
          kept, but the forward and backward are re-run for each direction);
        * ``"copies"``: each product gets its own copy of its point (one row of ``f``), ``d/dc [d . grad g]``.
        * ``"auto"`` (default): see :meth:`resolved_hvp_strategy` (measured: ``benchmarks/bench_hvp_strategy.py``).

        If the model has an op that cannot be batched over directions, ``"batched"`` falls back to ``"copies"``
        (same values, more compute) with a ``RuntimeWarning``. :attr:`hvp_count` counts the products computed;
        ``progress.update(n)`` (optional) is called as they complete.
        """
        problems = self._problems(problems, len(ts))
        K, G = len(ts), self.num_groups
        values, grads, hess = np.zeros(K), np.zeros((K, G)), np.zeros((K, G, G))
        if K and G:
            self._products(ts, problems, self._direction_sets(problems, None), (values, grads, hess, None), progress)
        return PathHessians(values, self._mask_columns(grads, problems), self._mask_columns(hess, problems))

    def hessian_columns(self, ts: np.ndarray, directions, problems=None, progress=None) -> HessianColumns:
        """Values, gradients, selected Hessian columns and the path direction's product (see
        :class:`HessianColumns`) at ``t * 1`` for each ``t`` in ``ts`` (problems ``problems``, default all 0).

        ``directions``: one entry per problem: a list of group indices ``S_n`` (or ``None``: that problem's full
        Hessian, as in :meth:`hessians`). Only the products with ``e_j``, ``j in S_n``, are computed, plus ONE
        product with the all-ones direction (the path direction, ``H @ 1``) per point: such a point costs
        ``|S_n| + 1`` products. Strategies, counting and ``progress`` as for :meth:`hessians`.
        """
        problems = self._problems(problems, len(ts))
        K, G = len(ts), self.num_groups
        values, grads = np.zeros(K), np.zeros((K, G))
        hess, along = np.full((K, G, G), np.nan), np.full((K, G), np.nan)
        if K and G:
            self._products(
                ts, problems, self._direction_sets(problems, directions), (values, grads, hess, along), progress
            )
        return HessianColumns(
            values,
            self._mask_columns(grads, problems),
            self._mask_columns(hess, problems),
            self._mask_columns(along, problems),
        )

    def resolved_hvp_strategy(self) -> str:
        """The strategy ``"auto"`` stands for here: ``"batched"`` on accelerators (e.g. CUDA), and on the CPU for
        rows of at most :attr:`CPU_BATCHED_MAX_ELEMENTS` input entries; ``"loop"`` for longer rows on the CPU.

        Measured on a 2-core CPU with a 6-layer DistilBERT (``dim`` 384; ``benchmarks/bench_hvp_strategy.py``,
        ``benchmarks/results/hvp_strategy.json``; CPU time per product with 8 products per point, as a multiple of
        one gradient): at 64 / 128 / 256 / 510 tokens the loop costs 1.08 / 1.25 / 1.61 / 1.65 gradients, batching
        (within the element budget) 1.05 / 1.37 / 1.79 / 1.86, and batching as before (``internal_batch_size=16``,
        no budget: up to 16 directions per backward pass) 1.11 / 1.43 / 2.34 / 3.20 (its batched double-backward
        tensors leave the caches). Forward-over-reverse (``"forward"``) cost 3.3-3.5 at every length. So batching
        pays only at short inputs, and the loop, which also holds one direction's tensors at a time, takes over from
        about 96 tokens of this model (threshold between the 64- and 128-token measurements). On accelerators
        batching is kept: large batches are what they run well (not measured: no GPU was lent to this project's
        measurement).
        """
        if self.hvp_strategy != "auto":
            return self.hvp_strategy
        if self.device.type == "cpu" and self._row_numel > self.CPU_BATCHED_MAX_ELEMENTS:
            return "loop"
        return "batched"

    # rows of more input entries than this use the loop of double-backward passes on the CPU (see above); for
    # DistilBERT/BERT-small (384 per token) about 96 tokens, for BERT-base (768) 48
    CPU_BATCHED_MAX_ELEMENTS = 96 * 384

    def _direction_sets(self, problems: np.ndarray, directions) -> list[_DirectionSet]:
        """The points grouped by the directions they take: one set per (problem size, selection)."""
        sizes = np.asarray(self.num_groups_each)[problems]
        specs: list[tuple[int, ...] | None]
        if directions is None:
            specs = [None] * self.num_problems
        else:
            if len(directions) != self.num_problems:
                raise ValueError(f"directions has {len(directions)} entries for {self.num_problems} problems")
            specs = [
                None if d is None else _group_indices(d, self.num_groups_each[n], n) for n, d in enumerate(directions)
            ]
        keys: dict[tuple, list[int]] = {}
        for k, (p, size) in enumerate(zip(problems, sizes)):
            if size > 0:
                keys.setdefault((int(size), specs[p]), []).append(k)
        sets = []
        for (size, spec), points in keys.items():
            units = tuple(range(size)) if spec is None else spec
            sets.append(_DirectionSet(np.asarray(points), size, units, spec is not None, spec is None))
        return sets

    def _products(self, ts, problems, sets, out, progress) -> None:
        strategy = self.resolved_hvp_strategy()
        if strategy not in HVP_STRATEGIES[1:]:
            raise ValueError(f"unknown hvp_strategy {strategy!r}; expected one of {HVP_STRATEGIES}")
        for s in sets:
            if strategy == "batched" and self._batching_failed:
                strategy = "copies"
            try:
                getattr(self, f"_products_{strategy}")(ts, problems, s, out, progress)
            except RuntimeError as err:
                if strategy != "batched" or is_out_of_memory(err) or not is_batching_failure(err):
                    raise
                warnings.warn(
                    f"batched Hessian-vector products failed ({str(err).splitlines()[0][:120]}); using "
                    f"one copy of each point per product",
                    RuntimeWarning,
                    stacklevel=4,
                )
                self._batching_failed = True
                strategy = "copies"
                self._products_copies(ts, problems, s, out, progress)

    def _point_batch(self, ts, problems, idx) -> tuple[torch.Tensor, torch.Tensor]:
        c = self._tensor(ts[idx])[:, None].expand(-1, self.num_groups).clone().requires_grad_(True)
        return c, self._tensor(problems[idx], torch.long)

    def _value_and_gradient(self, c, pid) -> tuple[torch.Tensor, torch.Tensor]:
        """``g`` and its graph-keeping gradient at the points ``c`` (run with grad enabled)."""
        y = self(c, pid)
        (gr,) = torch.autograd.grad(y.sum(), c, create_graph=True, allow_unused=True)
        return y, torch.zeros_like(c) if gr is None else gr

    def _second(self, gr, c, grad_outputs, *, batched: bool = False, retain: bool) -> torch.Tensor:
        """``d/dc [grad_outputs . gr]`` (zeros where ``gr`` does not depend on ``c``)."""
        if gr.requires_grad:
            (h,) = torch.autograd.grad(
                gr, c, grad_outputs=grad_outputs, is_grads_batched=batched, retain_graph=retain, allow_unused=True
            )
            if h is not None:
                return h
        return torch.zeros(grad_outputs.shape, dtype=c.dtype, device=c.device)

    @staticmethod
    def _store_values(out, idx, y, gr) -> None:
        """``g`` and its gradient at points ``idx``."""
        out[0][idx] = y.detach().double().cpu().numpy()
        out[1][idx] = gr.detach().double().cpu().numpy()

    def _store(self, out, s: _DirectionSet, ts, problems, idx, a, h, progress) -> None:
        """Products ``h`` (``(n, G)``, tensor) of points ``idx`` with directions ``a`` (``(n,)``, of set ``s``);
        ``g`` and its gradient there are stored already."""
        values, grads, hess, along = out
        h = h.detach().double().cpu().numpy()
        idx, a = np.asarray(idx), np.asarray(a)
        self._check_finite(
            ts[idx],
            problems[idx],
            [("f", values[idx]), ("the gradient of f", grads[idx]), ("a Hessian-vector product of f", h)],
        )
        unit = a < len(s.units)
        j = np.asarray(s.units, dtype=np.int64)[a[unit]]
        if s.rows:
            hess[idx[unit], j, :] = h[unit]
        else:
            hess[idx[unit], :, j] = h[unit]
        if (~unit).any():
            along[idx[~unit]] = h[~unit]
        self.hvp_count += len(a)
        if progress is not None:
            progress.update(len(a))

    def _products_batched(self, ts, problems, s: _DirectionSet, out, progress) -> None:
        """Several directions per backward pass (``is_grads_batched``), as many as the row budget allows."""
        self._products_double_backward(ts, problems, s, out, progress, batched=True)

    def _products_loop(self, ts, problems, s: _DirectionSet, out, progress) -> None:
        """One backward pass per direction, all reusing the gradient's graph."""
        self._products_double_backward(ts, problems, s, out, progress, batched=False)

    def _products_double_backward(self, ts, problems, s: _DirectionSet, out, progress, *, batched: bool) -> None:
        """``g``, its gradient (graph kept) and then ``H D_a`` for every direction of set ``s`` by double
        backward through that gradient: ``step`` directions per backward pass (1 for the loop)."""
        D, m, G = s.matrix(self.num_groups, self.dtype, self.device), s.count, self.num_groups

        def work(lo: int, hi: int) -> None:
            idx = s.points[lo:hi]
            n = len(idx)
            c, pid = self._point_batch(ts, problems, idx)
            with torch.enable_grad():
                y, gr = self._value_and_gradient(c, pid)
                self._store_values(out, idx, y, gr)
                step = max(1, self._row_cap("batched") // n) if batched else 1
                for d0 in range(0, m, step):
                    d1 = min(m, d0 + step)
                    if batched:  # h[i, p] = H(p) D[d0 + i]
                        h = self._second(gr, c, D[d0:d1, None, :].expand(-1, n, -1), batched=True, retain=d1 < m)
                        h = h.transpose(0, 1).reshape(-1, G)
                    else:
                        h = self._second(gr, c, D[d0].expand(n, -1), retain=d1 < m)
                    self._store(
                        out, s, ts, problems, np.repeat(idx, d1 - d0), np.tile(np.arange(d0, d1), n), h, progress
                    )

        self._each_chunk(len(s.points), work, cost=m if batched else 1, weight="batched" if batched else "loop")

    def _products_forward(self, ts, problems, s: _DirectionSet, out, progress) -> None:
        D, m = s.matrix(self.num_groups, self.dtype, self.device), s.count

        def work(lo: int, hi: int) -> None:
            idx = s.points[lo:hi]
            c, pid = self._point_batch(ts, problems, idx)
            c = c.detach()

            def total(cc):
                y = self(cc, pid)
                return y.sum(), y

            gradient = torch.func.grad(total, has_aux=True)
            with torch.enable_grad():
                for a in range(m):
                    # with has_aux, jvp returns (output, jvp, aux); torch types it as a 2- or 3-tuple
                    gr, h, y = cast(
                        "tuple[Any, Any, Any]",
                        torch.func.jvp(gradient, (c,), (D[a].expand(len(idx), -1),), has_aux=True),
                    )
                    if a == 0:
                        self._store_values(out, idx, y, gr)
                    self._store(out, s, ts, problems, idx, np.full(len(idx), a), h, progress)

        self._each_chunk(len(s.points), work, weight="forward")

    def _products_copies(self, ts, problems, s: _DirectionSet, out, progress) -> None:
        """Row ``(k, a)`` evaluates ``g`` at its own copy of point ``t_k * 1`` and takes
        ``d/dc [D_a . grad g]`` by double backward."""
        D, m = s.matrix(self.num_groups, self.dtype, self.device), s.count
        rows_k, rows_a = np.repeat(s.points, m), np.tile(np.arange(m), len(s.points))

        def work(lo: int, hi: int) -> None:
            k, a = rows_k[lo:hi], rows_a[lo:hi]
            c, pid = self._point_batch(ts, problems, k)
            with torch.enable_grad():
                y, gr = self._value_and_gradient(c, pid)
                picked = (gr * D[self._tensor(a, torch.long)]).sum()
                h = self._second(picked, c, torch.ones((), dtype=c.dtype, device=c.device), retain=False)
            h = h if h.shape == c.shape else torch.zeros_like(c)
            self._store_values(out, k, y, gr)
            self._store(out, s, ts, problems, k, a, h, progress)

        self._each_chunk(len(rows_k), work, weight="copies")

    # the two strategies of earlier versions, on the full Hessians (``rows``: ``[values, grads, hess]`` filled)
    def _hessians_batched_directions(self, ts, problems, rows, progress) -> None:
        self._full_hessians_with("batched", ts, problems, rows, progress)

    def _hessians_copies(self, ts, problems, rows, progress) -> None:
        self._full_hessians_with("copies", ts, problems, rows, progress)

    def _full_hessians_with(self, strategy, ts, problems, rows, progress) -> None:
        problems = self._problems(problems, len(ts))
        out = (*rows, None)
        for s in self._direction_sets(problems, None):
            getattr(self, f"_products_{strategy}")(ts, problems, s, out, progress)


def _group_indices(selection, size: int, problem: int) -> tuple[int, ...]:
    """Sorted distinct group indices of a selection, checked against the problem's ``size`` groups."""
    out = sorted({int(j) for j in selection})
    bad = [j for j in out if not 0 <= j < size]
    if bad:
        raise ValueError(f"group indices {bad} out of range for problem {problem} with {size} groups")
    return tuple(out)


@dataclass(frozen=True)
class _DirectionSet:
    """Points (indices of ``ts``) of problems of ``size`` groups that take the same directions: the unit
    directions ``e_j`` of ``units``, in order, then the all-ones direction if ``ones``. ``rows``: products are
    stored as Hessian rows ``hess[k, j, :]`` (full matrices), else as columns ``hess[k, :, j]``."""

    points: np.ndarray
    size: int
    units: tuple[int, ...]
    ones: bool
    rows: bool

    @property
    def count(self) -> int:
        return len(self.units) + int(self.ones)

    def matrix(self, G: int, dtype, device) -> torch.Tensor:
        D = torch.zeros(self.count, G, dtype=dtype, device=device)
        D[torch.arange(len(self.units)), list(self.units)] = 1.0
        if self.ones:
            D[-1, : self.size] = 1.0
        return D
