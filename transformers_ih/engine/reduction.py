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

    Raises ``ValueError`` at construction when ``x`` or the baseline (where it is used) has NaN/inf entries, and
    from the evaluation methods when ``f`` or its derivatives are not finite at a path point (naming ``t``).
    """

    def __init__(self, f, x: torch.Tensor, baseline, groups=None, internal_batch_size: int = 64, *, multi: bool = False):
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

    def _each_chunk(self, n: int, work: Callable[[int, int], None], cost: int = 1) -> None:
        """Call ``work(lo, hi)`` on consecutive chunks of ``n`` items of ``cost`` rows each, at most
        ``internal_batch_size`` rows (and at least one item) at a time. On out-of-memory (e.g. CUDA) the batch
        size is halved (for the rest of this function's life) and the chunk retried; at one row it re-raises."""
        lo = 0
        while lo < n:
            hi = min(n, lo + max(1, self.batch_size // cost))
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

        self._each_chunk(len(ts), work)
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

    def hessians(self, ts: np.ndarray, problems=None, progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradients and Hessians of ``g`` at ``t * 1`` for each ``t`` in ``ts``.

        Per chunk of points: one forward and one (graph-keeping) backward pass for the gradients, then the
        ``G`` Hessian-vector products ``d/dc [e_i . grad g]`` as one backward pass batched over the directions
        ``e_i`` (``torch.autograd.grad(..., is_grads_batched=True)``); at most ``internal_batch_size`` rows
        (points x directions) at a time. If the model has an op that cannot be batched that way, each
        Hessian-vector product gets its own copy of the point instead (same values, more compute).
        Returns ``(values (K,), grads (K, G), hessians (K, G, G))``, float64 (entries past a problem's own ``G``
        are 0).
        """
        problems = self._problems(problems, len(ts))
        K, G = len(ts), self.num_groups
        values, grads, hess = np.zeros(K), np.zeros((K, G)), np.zeros((K, G, G))
        if K == 0 or G == 0:
            return values, grads, hess
        rows = (values, grads, hess)
        try:
            self._hessians_batched_directions(ts, problems, rows, progress)
        except RuntimeError as err:
            if _is_out_of_memory(err) or not _is_batching_failure(err):
                raise
            warnings.warn(f"batched Hessian-vector products failed ({str(err).splitlines()[0][:120]}); using one "
                          f"copy of each point per product", RuntimeWarning, stacklevel=2)
            self._hessians_copies(ts, problems, rows, progress)
        return values, self._mask_columns(grads, problems), self._mask_columns(hess, problems)

    def _hessians_batched_directions(self, ts, problems, rows, progress) -> None:
        """Points are taken in runs of equal group count ``G_n`` (points of one problem are contiguous), so that
        each gets exactly its own ``G_n`` directions (no products wasted on another problem's extra groups)."""
        values, grads, hess = rows
        G = self.num_groups
        sizes = np.asarray(self.num_groups_each)[problems]
        order = np.argsort(sizes, kind="stable")
        for size in np.unique(sizes[sizes > 0]):
            run = order[sizes[order] == size]

            def work(lo: int, hi: int, run=run, size=int(size)) -> None:
                idx = run[lo:hi]
                c = self._tensor(ts[idx])[:, None].expand(-1, G).clone().requires_grad_(True)
                with torch.enable_grad():
                    y = self(c, self._tensor(problems[idx], torch.long))
                    (gr,) = torch.autograd.grad(y.sum(), c, create_graph=True, allow_unused=True)
                    gr = torch.zeros_like(c) if gr is None else gr
                    step = max(1, self.batch_size // len(idx))
                    for d0 in range(0, size, step):
                        d1 = min(size, d0 + step)
                        directions = torch.zeros(d1 - d0, len(idx), G, dtype=self.dtype, device=self.device)
                        directions[torch.arange(d1 - d0), :, torch.arange(d0, d1)] = 1.0
                        h = None
                        if gr.requires_grad:
                            (h,) = torch.autograd.grad(gr, c, grad_outputs=directions, is_grads_batched=True,
                                                       retain_graph=d1 < size, allow_unused=True)
                        if h is not None:  # h[i, p, :] = row d0 + i of the Hessian at point p
                            hess[idx, d0:d1] = h.permute(1, 0, 2).double().cpu().numpy()
                        if progress is not None:
                            progress.update((d1 - d0) * len(idx))
                values[idx] = y.detach().double().cpu().numpy()
                grads[idx] = gr.detach().double().cpu().numpy()
                self._check_finite(ts[idx], problems[idx], [("f", values[idx]), ("the gradient of f", grads[idx]),
                                                            ("a Hessian-vector product of f", hess[idx])])

            self._each_chunk(len(run), work, cost=int(size))

    def _hessians_copies(self, ts, problems, rows, progress) -> None:
        """Row ``(k, i)`` evaluates ``g`` at its own copy of point ``t_k * 1`` and takes ``d/dc [d g / d c_i]``
        by double backward."""
        values, grads, hess = rows
        K, G = len(ts), self.num_groups
        sizes = np.asarray(self.num_groups_each)[problems]
        rows_k = np.repeat(np.arange(K), sizes)
        rows_i = np.concatenate([np.arange(s) for s in sizes])
        t_all = self._tensor(ts)

        def work(lo: int, hi: int) -> None:
            k, i = rows_k[lo:hi], rows_i[lo:hi]
            c = t_all[self._tensor(k, torch.long)][:, None].expand(-1, G).clone().requires_grad_(True)
            with torch.enable_grad():
                y = self(c, self._tensor(problems[k], torch.long))
                (gr,) = torch.autograd.grad(y.sum(), c, create_graph=True, allow_unused=True)
                if gr is None:
                    gr = torch.zeros_like(c)
                picked = gr[torch.arange(hi - lo, device=self.device), self._tensor(i, torch.long)]
                h = torch.autograd.grad(picked.sum(), c, allow_unused=True)[0] if picked.requires_grad else None
            hess[k, i] = np.zeros((hi - lo, G)) if h is None else h.double().cpu().numpy()
            values[k] = y.detach().double().cpu().numpy()
            grads[k] = gr.detach().double().cpu().numpy()
            self._check_finite(ts[k], problems[k], [("f", values[k]), ("the gradient of f", grads[k]),
                                                    ("a Hessian-vector product of f", hess[k, i])])
            if progress is not None:
                progress.update(hi - lo)

        self._each_chunk(len(rows_k), work)
