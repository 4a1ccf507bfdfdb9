"""The reduced function of per-group coordinates, and its derivatives along the straight path.

Given a batched scalar function ``f`` (``(B, *shape) -> (B,)``), an input ``x`` and a baseline ``x'`` (both of
``shape``), and a partition of the entries of ``x`` into ``G`` groups, the reduced function is

    g(c) = f(s + sum_g c_g * Delta_g),      c in R^G,

where ``Delta_g`` is ``x - x'`` restricted to group ``g`` and ``s`` is the baseline (entries in group ``-1``
are held at their input value, e.g. special tokens). ``g(0) = f(x')`` and ``g(1) = f(x)``. Because
interactions are bilinear, Integrated Gradients / Hessians of ``f`` summed over the entries of each group
equal those of ``g`` on its ``G`` coordinates, so the Hessians here are ``G x G``, computed with ``G``
Hessian-vector products per path point (never the Hessian over all entries of ``x``).

A :class:`ReducedFunction` can hold ``N`` such problems of one ``shape`` (e.g. several texts padded to one
length): rows of all problems then share the calls of ``f``, which receives the problem id of each row.
Every method takes ``problems`` (the problem id of each requested point; default all ``0``).

All derivatives are returned as float64 numpy arrays; ``f`` runs in the dtype of ``x``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import torch

from .batching import ChunkedEvaluation
from .hvp import HVP_STRATEGIES, HessianColumns, HessianVectorProducts, PathHessians
from .nonfinite import check_finite_on_path, nonfinite_inputs_error

__all__ = [
    "BatchedFn",
    "HVP_STRATEGIES",
    "HessianColumns",
    "MultiFn",
    "PathHessians",
    "ReducedFunction",
    "normalise_groups",
]

BatchedFn = Callable[[torch.Tensor], torch.Tensor]
MultiFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (X (B, *shape), problem ids (B,)) -> (B,)


def _as_output_vector(y: torch.Tensor, batch: int) -> torch.Tensor:
    if y.dim() == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (batch,):
        raise ValueError(
            f"f must map a batch of shape (B, *x.shape) to shape (B,) (one scalar per row); got output shape "
            f"{tuple(y.shape)} for B={batch}. Select the output to explain inside f, e.g. lambda X: model(X)[:, k]."
        )
    return y


def normalise_groups(groups: torch.Tensor | np.ndarray | None, shape: torch.Size, device) -> tuple[torch.Tensor, int]:
    """Return ``(groups, G)`` with ``groups`` a long tensor of ``shape`` (ids ``-1`` or ``0..G-1``).

    ``groups=None`` makes every entry its own group. A ``groups`` with the leading dims of ``shape`` (e.g.
    one id per token for ``x`` of shape ``(L, e)``) is broadcast over the trailing dims.
    """
    n = int(np.prod(tuple(shape))) if len(shape) else 1
    if groups is None:
        return torch.arange(n, device=device).reshape(shape), n
    g = torch.as_tensor(groups, device=device).long()
    if g.shape != shape:
        if tuple(g.shape) != tuple(shape[: g.dim()]):
            raise ValueError(f"groups has shape {tuple(g.shape)}; expected {tuple(shape)} or a prefix of it")
        g = g.reshape(*g.shape, *([1] * (len(shape) - g.dim()))).expand(shape)
    if g.numel() and int(g.min()) < -1:
        raise ValueError("group ids must be -1 (held at the input) or 0, 1, ..., G-1")
    num = int(g.max()) + 1 if g.numel() else 0
    present = torch.unique(g[g >= 0])
    if len(present) != num:
        raise ValueError(
            f"group ids must be contiguous 0..G-1; ids {sorted(set(range(num)) - set(present.tolist()))} are empty"
        )
    return g, num


class ReducedFunction(HessianVectorProducts, ChunkedEvaluation):
    """``g_n(c) = f(s_n + sum_g c_g Delta_{n,g})`` for ``N`` problems of one shape; ``N = 1`` by default.

    Args:
        f: batched scalar function, ``(B, *shape) -> (B,)``; with ``multi=True`` it is called as
            ``f(X, problem_ids)`` so that it can treat rows of different problems differently.
        x: input(s): ``shape``, or ``(N, *shape)`` with ``multi=True``.
        baseline: baseline(s) of the same shape (or broadcastable to it).
        groups: see :func:`normalise_groups`; with ``multi=True`` a list of ``N`` of them.
        internal_batch_size: the most rows passed to ``f`` at once.
        hvp_strategy: how Hessian-vector products are computed (see :meth:`hessians`); default ``"auto"``.
        max_batch_elements: on the CPU, the most input entries (rows x entries per row, weighted by the pass's
            memory relative to a gradient) passed to ``f`` at once, so that memory stays bounded for long inputs
            whatever ``internal_batch_size`` is; ``"auto"`` (default): :attr:`CPU_MAX_BATCH_ELEMENTS` on the CPU
            and no limit on accelerators (where an out-of-memory error halves the batch and retries); ``None``:
            no limit.

    Raises ``ValueError`` at construction when ``x`` or the baseline (where it is used) has NaN/inf entries, and
    from the evaluation methods when ``f`` or its derivatives are not finite at a path point (naming ``t``).

    Hessians: :meth:`hessians` (full matrices) and :meth:`hessian_columns` (selected columns), from
    :class:`~.hvp.HessianVectorProducts`; calls of ``f`` are chunked by :class:`~.batching.ChunkedEvaluation`.
    """

    def __init__(
        self,
        f,
        x: torch.Tensor,
        baseline,
        groups=None,
        internal_batch_size: int = 64,
        *,
        multi: bool = False,
        hvp_strategy: str = "auto",
        max_batch_elements: int | str | None = "auto",
    ):
        if not torch.is_floating_point(x):
            raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
        if internal_batch_size < 1:
            raise ValueError(f"internal_batch_size must be >= 1, got {internal_batch_size}")
        x = x.detach()
        xs = x if multi else x[None]
        baseline = torch.as_tensor(baseline, dtype=x.dtype, device=x.device).detach()
        bases = baseline.expand_as(xs) if multi or baseline.dim() < xs.dim() else baseline[None].expand_as(xs)
        self.shape = xs.shape[1:]
        groups_list = groups if multi else [groups]
        if len(groups_list) != len(xs):
            raise ValueError(f"{len(groups_list)} group tensors for {len(xs)} problems")
        normalised = [normalise_groups(g, self.shape, x.device) for g in groups_list]
        self.num_groups_each = [n for _, n in normalised]
        self.num_groups = max(self.num_groups_each)
        G = self.num_groups
        gs = torch.stack([g for g, _ in normalised])
        held = gs < 0
        self.start = torch.where(held, xs, bases)
        self.delta = torch.where(held, torch.zeros_like(xs), xs - bases)
        # column G of the extended coordinates is a constant 0 for held entries (their delta is 0 anyway)
        self._index = torch.where(held, torch.full_like(gs, G), gs).reshape(len(xs), -1)
        self.f = f if multi else (lambda X, problems: f(X))
        self.num_problems = len(xs)
        self.batch_size = internal_batch_size
        if hvp_strategy not in HVP_STRATEGIES:
            raise ValueError(f"unknown hvp_strategy {hvp_strategy!r}; expected one of {HVP_STRATEGIES}")
        self.hvp_strategy = hvp_strategy
        if max_batch_elements == "auto":
            max_batch_elements = self.CPU_MAX_BATCH_ELEMENTS if x.device.type == "cpu" else None
        self.max_batch_elements = cast("int | None", max_batch_elements)  # "auto" resolved above
        self._row_numel = max(1, int(np.prod(tuple(self.shape))) if len(self.shape) else 1)
        self.hvp_count = 0  # Hessian-vector products computed (points x directions)
        self._batching_failed = False
        self.dtype, self.device = x.dtype, x.device
        self.multi = multi
        self.describe_problem: Callable[[int], str] | None = None  # e.g. "row 2, background row 5" (errors)
        # one check: start and delta are finite iff x is, and the baseline is where it is used (not held)
        if not bool(torch.isfinite(self.start).all() & torch.isfinite(self.delta).all()):
            raise nonfinite_inputs_error(xs, bases, held, multi)

    # ---------------------------------------------------------------- evaluation
    def _problems(self, problems, n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.int64) if problems is None else np.asarray(problems, dtype=np.int64)

    def points(self, c: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
        """``(B, G)`` coordinates of problems ``problems`` (``(B,)``) -> ``(B, *shape)`` inputs of ``f``."""
        ext = torch.cat([c, torch.zeros(c.shape[0], 1, dtype=c.dtype, device=c.device)], dim=1)
        scale = torch.gather(ext, 1, self._index[problems]).reshape(c.shape[0], *self.shape)
        return self.start[problems] + scale * self.delta[problems]

    def __call__(self, c: torch.Tensor, problems: torch.Tensor | None = None) -> torch.Tensor:
        if problems is None:
            problems = torch.zeros(c.shape[0], dtype=torch.long, device=self.device)
        return _as_output_vector(self.f(self.points(c, problems), problems), c.shape[0])

    def path_points(self, t: torch.Tensor, problems: torch.Tensor) -> torch.Tensor:
        """``(B,)`` path positions -> ``(B, *shape)`` points ``s + t * Delta`` of the given problems."""
        return self.start[problems] + t.reshape(-1, *([1] * len(self.shape))) * self.delta[problems]

    def _check_finite(self, ts: np.ndarray, problems: np.ndarray, checks) -> None:
        """Raise a ``ValueError`` naming the path position and problem where ``f`` or a derivative (``checks``:
        ``(what, float64 values)`` pairs, the function's values first) is not finite (see
        :func:`~.nonfinite.check_finite_on_path`)."""
        check_finite_on_path(ts, problems, checks, self._name_problem)

    def _name_problem(self, problem: int) -> str:
        if self.describe_problem is not None:
            return f" ({self.describe_problem(problem)})"
        return f" of problem {problem}" if self.multi else ""

    def _tensor(self, values, dtype=None) -> torch.Tensor:
        return torch.as_tensor(values, dtype=dtype or self.dtype, device=self.device)

    # ---------------------------------------------------------------- derivatives along t
    def path_derivatives(self, ts: np.ndarray, order: int, problems=None) -> np.ndarray:
        """``F(t) = g(t * 1)`` and its derivatives along the path.

        Returns a float64 array of shape ``(order + 1, K)``: rows ``F, F', F''`` (up to ``order <= 2``)
        at the ``K`` positions ``ts`` (of problems ``problems``). Costs one batched forward (and one or two
        backward) passes per chunk; no per-group work.
        """
        problems = self._problems(problems, len(ts))
        out = np.zeros((order + 1, len(ts)))

        def work(lo: int, hi: int) -> None:
            t = self._tensor(ts[lo:hi]).requires_grad_(order > 0)
            pid = self._tensor(problems[lo:hi], torch.long)
            with torch.set_grad_enabled(order > 0):
                y = _as_output_vector(self.f(self.path_points(t, pid), pid), hi - lo)
                rows = [y]
                if order >= 1:
                    (d1,) = torch.autograd.grad(y.sum(), t, create_graph=order >= 2, allow_unused=True)
                    d1 = torch.zeros_like(t) if d1 is None else d1
                    rows.append(d1)
                if order >= 2:
                    d2 = torch.autograd.grad(d1.sum(), t, allow_unused=True)[0] if d1.requires_grad else None
                    rows.append(torch.zeros_like(t) if d2 is None else d2)
            out[:, lo:hi] = torch.stack([r.detach() for r in rows]).double().cpu().numpy()
            names = ("f", "the derivative of f along the path", "the second derivative of f along the path")
            self._check_finite(ts[lo:hi], problems[lo:hi], [(names[k], out[k, lo:hi]) for k in range(order + 1)])

        self._each_chunk(len(ts), work, weight="second" if order >= 2 else "gradient")
        return out

    # ---------------------------------------------------------------- per-group gradients and Hessians
    def gradients(self, ts: np.ndarray, problems=None) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of ``g`` at ``t * 1`` for each ``t`` in ``ts``.

        Returns ``(values (K,), grads (K, G))``, float64 (columns past a problem's own ``G`` are 0).
        """
        problems = self._problems(problems, len(ts))
        K, G = len(ts), self.num_groups
        values, grads = np.zeros(K), np.zeros((K, G))

        def work(lo: int, hi: int) -> None:
            c = self._tensor(ts[lo:hi])[:, None].expand(-1, G).clone().requires_grad_(True)
            with torch.enable_grad():
                y = self(c, self._tensor(problems[lo:hi], torch.long))
                (gr,) = torch.autograd.grad(y.sum(), c, allow_unused=True)
            values[lo:hi] = y.detach().double().cpu().numpy()
            if gr is not None:
                grads[lo:hi] = gr.double().cpu().numpy()
            self._check_finite(ts[lo:hi], problems[lo:hi], [("f", values[lo:hi]), ("the gradient of f", grads[lo:hi])])

        self._each_chunk(K, work)
        return values, self._mask_columns(grads, problems)

    def _mask_columns(self, arr: np.ndarray, problems: np.ndarray) -> np.ndarray:
        sizes = np.asarray(self.num_groups_each)[problems]
        return np.where(np.arange(arr.shape[-1]) < sizes.reshape(-1, *([1] * (arr.ndim - 1))), arr, 0.0)
