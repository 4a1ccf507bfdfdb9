"""Integrated Gradients of any differentiable batched scalar torch function."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from .path import PathSettings, choose_rules
from .reduction import BatchedFn, ReducedFunction
from .results import PathResult


def integrated_gradients(
    f: BatchedFn,
    x: torch.Tensor,
    baseline: torch.Tensor | float | None = None,
    *,
    groups=None,
    steps: int | None = None,
    method: str | None = None,
    rtol: float = 1e-3,
    atol: float = 1e-4,
    max_nodes: int = 512,
    panel_nodes: int = 6,
    internal_batch_size: int = 64,
    seed: int | None = 0,
) -> PathResult:
    """Integrated Gradients ``phi_i = (x_i - x'_i) int_0^1 d_i f(x' + a (x - x')) da``, summed per group.

    Args:
        f: batched scalar function: a ``(B, *x.shape)`` tensor -> ``(B,)`` (Captum's convention).
        x: the input, any shape, floating point.
        baseline: ``x'``; a tensor of ``x.shape`` (or broadcastable) or a number; default zeros.
        groups: optional integer ids of ``x.shape`` (or a prefix of it) partitioning entries into features
            ``0..G-1`` whose attributions are summed; ``-1`` holds an entry at its input value. Default: every
            entry is its own feature and attributions have ``x.shape``.
        steps, method: ``steps=None`` -> adaptive Gauss-Legendre panels refined until
            ``|sum phi - (f(x) - f(x'))| <= max(rtol * |f(x) - f(x')|, atol)``; ``steps=N`` -> a fixed rule,
            ``method`` ``"gauss"`` (default), ``"riemann"`` (midpoints) or ``"montecarlo"``.
        max_nodes, panel_nodes: adaptive rule's node cap and nodes per panel.
        internal_batch_size: the most rows passed to ``f`` at once (bounds memory).
        seed: for ``method="montecarlo"``.
        (These path arguments make a :class:`~.path.PathSettings`.)

    Returns:
        :class:`~.results.PathResult` with float64 numpy attributions (``interactions`` is ``None``).
    """
    path = PathSettings(
        steps=steps, method=method, rtol=rtol, atol=atol, max_nodes=max_nodes, panel_nodes=panel_nodes, seed=seed
    )
    x = torch.as_tensor(x)
    reduced = ReducedFunction(f, x, 0.0 if baseline is None else baseline, groups, internal_batch_size)
    (result,) = integrated_gradients_reduced(reduced, path)
    if groups is None:
        result.attributions = result.attributions.reshape(tuple(x.shape))
    return result


def integrated_gradients_reduced(reduced: ReducedFunction, path: PathSettings) -> list[PathResult]:
    """Integrated Gradients of every problem of ``reduced`` (model calls shared across problems).

    ``path``: the path rule (see :class:`~.path.PathSettings`). Returns one result per problem, with
    attributions of length ``G_n`` (that problem's number of groups). The adaptive rule's scalar pass takes the
    per-group gradients (one backward pass, like ``F'`` itself, which is their sum), so the final nodes, the
    path's ends included, are never evaluated twice.
    """
    seen: dict[tuple[int, float], tuple[float, np.ndarray | None]] = {}  # (problem, t) -> (g, grad g or None)

    def evaluate(ts: np.ndarray, problems: np.ndarray) -> None:
        values, grads = reduced.gradients(ts, problems)
        seen.update({(int(j), float(t)): (v, g) for j, t, v, g in zip(problems, ts, values, grads)})

    def derivatives(ts: np.ndarray, order: int, problems: np.ndarray) -> np.ndarray:
        evaluate(ts, problems)  # with gradients
        return np.array(
            [
                [seen[(int(j), float(t))][0] for j, t in zip(problems, ts)],
                [cast(np.ndarray, seen[(int(j), float(t))][1]).sum() for j, t in zip(problems, ts)],
            ]
        )

    rules = choose_rules(reduced, "uniform", path, path_fn=derivatives)
    wanted = [(j, float(t)) for j, (rule, _) in enumerate(rules) for t in rule.nodes]
    missing = sorted(set(wanted) - set(seen))
    if missing:
        evaluate(np.array([t for _, t in missing]), np.array([j for j, _ in missing]))
    ends = sorted({(j, t) for j in range(len(rules)) for t in (0.0, 1.0)} - set(seen))
    if ends:  # values only (a fixed rule's nodes exclude the ends): forward passes, no gradients
        values = reduced.path_derivatives(np.array([t for _, t in ends]), 0, np.array([j for j, _ in ends]))[0]
        seen.update({end: (v, None) for end, v in zip(ends, values)})
    results = []
    for j, (rule, info) in enumerate(rules):
        G = reduced.num_groups_each[j]
        # a rule's nodes were evaluated with their gradients (only the ends may have values alone)
        grads = np.stack([cast(np.ndarray, seen[(j, float(t))][1])[:G] for t in rule.nodes])
        attributions = rule.integrate(grads)
        f_baseline, f_input = float(seen[(j, 0.0)][0]), float(seen[(j, 1.0)][0])
        error = abs(float(attributions.sum()) - (f_input - f_baseline))
        results.append(PathResult(attributions, f_input, f_baseline, error, rule, info))
    return results
