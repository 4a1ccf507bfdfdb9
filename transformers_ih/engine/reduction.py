"""The reduced function of per-group coordinates, and its derivatives along the straight path.

Given a batched scalar function ``f`` (``(B, *shape) -> (B,)``), an input ``x`` and a baseline ``x'`` (both of
``shape``), and a partition of the entries of ``x`` into ``G`` groups, the reduced function is

    g(c) = f(s + sum_g c_g * Delta_g),      c in R^G,

where ``Delta_g`` is ``x - x'`` restricted to group ``g`` and ``s`` is the baseline (entries in group ``-1``
are held at their input value, e.g. special tokens). ``g(0) = f(x')`` and ``g(1) = f(x)``. Because
interactions are bilinear, Integrated Gradients / Hessians of ``f`` summed over the entries of each group
equal those of ``g`` on its ``G`` coordinates, so the Hessians here are ``G x G``, computed with ``G``
Hessian-vector products per path point (never the Hessian over all entries of ``x``).

All derivatives are returned as float64 numpy arrays; ``f`` runs in the dtype of ``x``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

BatchedFn = Callable[[torch.Tensor], torch.Tensor]


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


class ReducedFunction:
    """``g(c) = f(s + sum_g c_g Delta_g)`` for a batch of coordinate vectors ``c`` of shape ``(B, G)``.

    Args:
        f: batched scalar function, ``(B, *shape) -> (B,)``.
        x: input, ``shape``.
        baseline: baseline of the same shape (or broadcastable to it).
        groups: see :func:`normalise_groups`.
        internal_batch_size: the most rows passed to ``f`` at once.
    """

    def __init__(self, f: BatchedFn, x: torch.Tensor, baseline: torch.Tensor, groups=None, internal_batch_size: int = 64):
        if not torch.is_floating_point(x):
            raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
        if internal_batch_size < 1:
            raise ValueError(f"internal_batch_size must be >= 1, got {internal_batch_size}")
        self.f = f
        x = x.detach()
        baseline = torch.as_tensor(baseline, dtype=x.dtype, device=x.device).detach().expand_as(x)
        self.shape = x.shape
        self.groups, self.num_groups = normalise_groups(groups, x.shape, x.device)
        held = self.groups < 0
        self.start = torch.where(held, x, baseline)
        self.delta = torch.where(held, torch.zeros_like(x), x - baseline)
        # column G of the extended coordinates is a constant 0 for held entries (their delta is 0 anyway)
        self._index = torch.where(held, torch.full_like(self.groups, self.num_groups), self.groups).reshape(-1)
        self.batch_size = internal_batch_size
        self.dtype, self.device = x.dtype, x.device

    # ---------------------------------------------------------------- evaluation
    def points(self, c: torch.Tensor) -> torch.Tensor:
        """``(B, G)`` coordinates -> ``(B, *shape)`` inputs of ``f``."""
        ext = torch.cat([c, torch.zeros(c.shape[0], 1, dtype=c.dtype, device=c.device)], dim=1)
        scale = ext[:, self._index].reshape(c.shape[0], *self.shape)
        return self.start + scale * self.delta

    def __call__(self, c: torch.Tensor) -> torch.Tensor:
        return _as_output_vector(self.f(self.points(c)), c.shape[0])

    def path_points(self, t: torch.Tensor) -> torch.Tensor:
        """``(B,)`` path positions -> ``(B, *shape)`` points ``s + t * Delta``."""
        return self.start + t.reshape(-1, *([1] * len(self.shape))) * self.delta

    def _chunks(self, n: int, per_row: int = 1):
        step = max(1, self.batch_size // per_row)
        for lo in range(0, n, step):
            yield lo, min(n, lo + step)

    # ---------------------------------------------------------------- derivatives along t
    def path_derivatives(self, ts: np.ndarray, order: int) -> np.ndarray:
        """``F(t) = g(t * 1)`` and its derivatives along the path.

        Returns a float64 array of shape ``(order + 1, K)``: rows ``F, F', F''`` (up to ``order <= 2``)
        at the ``K`` positions ``ts``. Costs one batched forward (and one or two backward) passes per chunk;
        no per-group work.
        """
        out = np.zeros((order + 1, len(ts)))
        for lo, hi in self._chunks(len(ts)):
            t = torch.as_tensor(ts[lo:hi], dtype=self.dtype, device=self.device).requires_grad_(order > 0)
            with torch.set_grad_enabled(order > 0):
                y = _as_output_vector(self.f(self.path_points(t)), hi - lo)
                rows = [y]
                if order >= 1:
                    (d1,) = torch.autograd.grad(y.sum(), t, create_graph=order >= 2, allow_unused=True)
                    d1 = torch.zeros_like(t) if d1 is None else d1
                    rows.append(d1)
                if order >= 2:
                    d2 = (
                        torch.autograd.grad(d1.sum(), t, allow_unused=True)[0]
                        if d1.requires_grad
                        else None
                    )
                    rows.append(torch.zeros_like(t) if d2 is None else d2)
            out[:, lo:hi] = torch.stack([r.detach() for r in rows]).double().cpu().numpy()
        return out

    # ---------------------------------------------------------------- per-group gradients and Hessians
    def gradients(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of ``g`` at ``t * 1`` for each ``t`` in ``ts``.

        Returns ``(values (K,), grads (K, G))``, float64.
        """
        K, G = len(ts), self.num_groups
        values, grads = np.zeros(K), np.zeros((K, G))
        for lo, hi in self._chunks(K):
            c = torch.as_tensor(ts[lo:hi], dtype=self.dtype, device=self.device)[:, None].expand(-1, G).clone()
            c.requires_grad_(True)
            with torch.enable_grad():
                y = self(c)
                (gr,) = torch.autograd.grad(y.sum(), c, allow_unused=True)
            values[lo:hi] = y.detach().double().cpu().numpy()
            if gr is not None:
                grads[lo:hi] = gr.double().cpu().numpy()
        return values, grads

    def hessians(self, ts: np.ndarray, progress=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gradients and Hessians of ``g`` at ``t * 1`` for each ``t`` in ``ts``.

        Uses ``K * G`` Hessian-vector products: row ``(k, i)`` evaluates ``g`` at a copy of the point ``t_k * 1``
        and takes ``d/dc [d g / d c_i]`` by double backward; rows are batched ``internal_batch_size`` at a
        time. Returns ``(values (K,), grads (K, G), hessians (K, G, G))``, float64.
        """
        K, G = len(ts), self.num_groups
        values, grads, hess = np.zeros(K), np.zeros((K, G)), np.zeros((K, G, G))
        rows_k = np.repeat(np.arange(K), G)
        rows_i = np.tile(np.arange(G), K)
        t_all = torch.as_tensor(ts, dtype=self.dtype, device=self.device)
        for lo, hi in self._chunks(K * G):
            k, i = rows_k[lo:hi], rows_i[lo:hi]
            c = t_all[torch.as_tensor(k, device=self.device)][:, None].expand(-1, G).clone().requires_grad_(True)
            with torch.enable_grad():
                y = self(c)
                (gr,) = torch.autograd.grad(y.sum(), c, create_graph=True, allow_unused=True)
                if gr is None:
                    gr = torch.zeros_like(c)
                picked = gr[torch.arange(hi - lo, device=self.device), torch.as_tensor(i, device=self.device)]
                h = torch.autograd.grad(picked.sum(), c, allow_unused=True)[0] if picked.requires_grad else None
            h = np.zeros((hi - lo, G)) if h is None else h.double().cpu().numpy()
            hess[k, i] = h
            values[k] = y.detach().double().cpu().numpy()
            grads[k] = gr.detach().double().cpu().numpy()
            if progress is not None:
                progress.update(hi - lo)
        return values, grads, hess
