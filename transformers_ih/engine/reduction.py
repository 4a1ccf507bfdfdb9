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

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

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
        raise ValueError(f"group ids must be contiguous 0..G-1; ids {sorted(set(range(num)) - set(present.tolist()))} are empty")
    return g, num


def _describe_nonfinite(bad: torch.Tensor, values: torch.Tensor, multi: bool) -> str:
    """``"3 non-finite entries (NaN or inf): 2 NaN, 1 inf; first at index (0, 4)"`` for the ``bad`` mask."""
    count = int(bad.sum())
    nan = int((bad & torch.isnan(values)).sum())
    first = tuple(int(i) for i in torch.nonzero(bad)[0])
    if not multi:
        first = first[1:]
    where = f"problem {first[0]}, index {first[1:]}" if multi else f"index {first}"
    kinds = ", ".join(part for part in (f"{nan} NaN" if nan else "", f"{count - nan} inf" if count > nan else "")
                      if part)
    return f"{count} non-finite {'entry' if count == 1 else 'entries'} (NaN or inf): {kinds}; first at {where}"


def _nonfinite_inputs_error(xs: torch.Tensor, bases: torch.Tensor, held: torch.Tensor, multi: bool) -> ValueError:
    fix = ("Integrated Gradients/Hessians integrate along the straight path from the baseline to the input, "
           "which needs both finite: replace NaN/inf (e.g. with torch.nan_to_num) or choose another baseline")
    bad_x = ~torch.isfinite(xs)
    if bool(bad_x.any()):
        return ValueError(f"the input x has {_describe_nonfinite(bad_x, xs, multi)}. {fix}")
    bad_b = ~torch.isfinite(bases) & ~held
    if bool(bad_b.any()):
        return ValueError(f"the baseline has {_describe_nonfinite(bad_b, bases, multi)}. {fix}")
    # both finite, their difference is not: it overflows the dtype
    bad = ~torch.isfinite(xs - bases) & ~held
    return ValueError(f"x - baseline overflows {xs.dtype} in {int(bad.sum())} entries: the input and the baseline "
                      f"are finite but too far apart for this dtype; use a wider dtype (e.g. x.double()) or rescale "
                      f"the input")


def _is_out_of_memory(err: RuntimeError) -> bool:
    """CUDA's ``torch.OutOfMemoryError``, or the CPU allocator's plain ``RuntimeError`` ("can't allocate
    memory")."""
    message = str(err).lower()
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in message or "can't allocate memory" in message


def _is_batching_failure(err: RuntimeError) -> bool:
    """Whether an error comes from batching the Hessian-vector products over directions (vmap over a backward
    formula), rather than from the function itself (which is re-raised, not retried)."""
    message = str(err).lower()
    return any(key in message for key in ("vmap", "batching rule", "batched", "is_grads_batched", "functorch"))


class ReducedFunction:
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
    """

    # measured with a 6-layer DistilBERT (dim 384) on a 512-token input (benchmarks/bench_hvp_strategy.py): with
    # this budget (5 rows of 512 x 384 entries per gradient call, 2 per second-order call) Integrated Gradients
    # peaks at 1.0 GB (model and libraries included; 2.5 GB before, with 29 rows per call) and Integrated
    # Hessians' search and products at 2.6 GB (9.3 GB before)
    CPU_MAX_BATCH_ELEMENTS = 1_000_000

    def __init__(self, f, x: torch.Tensor, baseline, groups=None, internal_batch_size: int = 64, *, multi: bool = False,
                 hvp_strategy: str = "auto", max_batch_elements: int | str | None = "auto"):
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
        self.max_batch_elements = max_batch_elements
        self._row_numel = max(1, int(np.prod(tuple(self.shape))) if len(self.shape) else 1)
        self.hvp_count = 0  # Hessian-vector products computed (points x directions)
        self._batching_failed = False
        self.dtype, self.device = x.dtype, x.device
        self.multi = multi
        self.describe_problem: Callable[[int], str] | None = None  # e.g. "row 2, background row 5" (errors)
        # one check: start and delta are finite iff x is, and the baseline is where it is used (not held)
        if not bool(torch.isfinite(self.start).all() & torch.isfinite(self.delta).all()):
            raise _nonfinite_inputs_error(xs, bases, held, multi)

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
                if not _is_out_of_memory(err) or self.batch_size <= 1:
                    raise
                self.batch_size = max(1, min(self.batch_size, (hi - lo) * cost) // 2)
                warnings.warn(f"out of memory: retrying with internal_batch_size={self.batch_size}",
                              ResourceWarning, stacklevel=3)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            lo = hi

    def _check_finite(self, ts: np.ndarray, problems: np.ndarray, checks) -> None:
        """Raise a ``ValueError`` naming the path position and problem where ``f`` or a derivative is not finite.

        ``checks``: ``(what, values)`` pairs, ``values`` float64 arrays with the points along axis 0, the
        function's values first. One vectorised test per array (the arrays are on the CPU already). Derivatives
        at ``t = 0`` exactly are not checked: no rule uses them (Gauss nodes are interior, and the ends enter
        through ``F`` only), and a singularity there (e.g. ``sqrt`` at a zero baseline) is integrable.
        """
        for k, (what, values) in enumerate(checks):
            finite = np.isfinite(values)
            if finite.all():
                continue
            bad_points = ~finite.reshape(len(values), -1).all(axis=1)
            if k > 0:
                bad_points &= np.asarray(ts) != 0.0
            if not bad_points.any():
                continue
            p = int(np.argmax(bad_points))
            bad_value = values[p][~np.isfinite(values[p])].flat[0] if np.ndim(values[p]) else values[p]
            raise self._nonfinite_path_error(what, float(ts[p]), int(problems[p]), float(bad_value),
                                             float(checks[0][1][p]) if k > 0 else None)

    def _nonfinite_path_error(self, what: str, t: float, problem: int, value: float, f_value) -> ValueError:
        end = " (the baseline)" if t == 0.0 else " (the input)" if t == 1.0 else ""
        if self.describe_problem is not None:
            which = f" ({self.describe_problem(problem)})"
        else:
            which = f" of problem {problem}" if self.multi else ""
        there = "" if f_value is None else f", where f = {f_value:.6g}"
        return ValueError(
            f"{what} is not finite at t={t:.4g}{end} on the path from the baseline to the input{which} ({value}"
            f"{there}): the attributions would be NaN. Check the model (e.g. log or sqrt of a non-positive value, "
            f"division by zero, overflow in a low-precision dtype) and the baseline (f must be finite and "
            f"differentiable at every point between the baseline and the input)")

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

    # ---------------------------------------------------------------- Hessian-vector products
    def hessians(self, ts: np.ndarray, problems=None, progress=None, directions=None):
        """Gradients and Hessian-vector products of ``g`` at ``t * 1`` for each ``t`` in ``ts``.

        ``directions=None`` (default): the full Hessians, ``G_n`` products per point (one per group of the point's
        problem). Returns ``(values (K,), grads (K, G), hessians (K, G, G))``, float64; ``hessians[k, i]`` is the
        product with ``e_i`` (row ``i``); entries past a problem's own ``G_n`` are 0.

        ``directions``: one entry per problem: a list of group indices ``S_n`` (or ``None``: that problem's full
        Hessian, as above). Only the products with ``e_j``, ``j in S_n``, are computed, plus ONE product with the
        all-ones direction (the path direction, ``H @ 1``) per point. Returns ``(values, grads, hessians,
        along)``: ``hessians[k, :, j] = H(t_k) e_j`` (column ``j``, which by symmetry is also row ``j``) for the
        selected ``j`` and ``NaN`` in every column not computed; ``along (K, G)`` is ``H(t_k) @ 1`` (``NaN`` at
        points of problems given ``None``). Such a point costs ``|S_n| + 1`` products.

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
        (same values, more compute) with a ``RuntimeWarning``. :attr:`hvp_count` counts the products computed.
        """
        problems = self._problems(problems, len(ts))
        K, G = len(ts), self.num_groups
        selected = directions is not None
        values, grads = np.zeros(K), np.zeros((K, G))
        hess = np.full((K, G, G), np.nan) if selected else np.zeros((K, G, G))
        along = np.full((K, G), np.nan) if selected else None
        if K and G:
            self._products(ts, problems, self._direction_sets(problems, directions), (values, grads, hess, along),
                           progress)
        grads = self._mask_columns(grads, problems)
        if not selected:
            return values, grads, self._mask_columns(hess, problems)
        return values, grads, self._mask_columns(hess, problems), self._mask_columns(along, problems)

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
    # memory of one row, relative to a gradient (forward + backward), for the CPU's element budget
    _MEMORY_WEIGHT = {"gradient": 1.0, "second": 2.0, "batched": 2.0, "loop": 2.0, "forward": 1.5, "copies": 2.0}

    def _direction_sets(self, problems: np.ndarray, directions) -> list[_DirectionSet]:
        """The points grouped by the directions they take: one set per (problem size, selection)."""
        sizes = np.asarray(self.num_groups_each)[problems]
        if directions is None:
            specs = [None] * self.num_problems
        else:
            if len(directions) != self.num_problems:
                raise ValueError(f"directions has {len(directions)} entries for {self.num_problems} problems")
            specs = [None if d is None else _group_indices(d, self.num_groups_each[n], n)
                     for n, d in enumerate(directions)]
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
                if strategy != "batched" or _is_out_of_memory(err) or not _is_batching_failure(err):
                    raise
                warnings.warn(f"batched Hessian-vector products failed ({str(err).splitlines()[0][:120]}); using "
                              f"one copy of each point per product", RuntimeWarning, stacklevel=4)
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
            (h,) = torch.autograd.grad(gr, c, grad_outputs=grad_outputs, is_grads_batched=batched,
                                       retain_graph=retain, allow_unused=True)
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
        self._check_finite(ts[idx], problems[idx], [("f", values[idx]), ("the gradient of f", grads[idx]),
                                                    ("a Hessian-vector product of f", h)])
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
                    self._store(out, s, ts, problems, np.repeat(idx, d1 - d0), np.tile(np.arange(d0, d1), n), h,
                                progress)

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
                    gr, h, y = torch.func.jvp(gradient, (c,), (D[a].expand(len(idx), -1),), has_aux=True)
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


HVP_STRATEGIES = ("auto", "batched", "loop", "forward", "copies")


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
