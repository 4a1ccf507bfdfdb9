"""Integrated Gradients of any differentiable batched scalar torch function."""

from __future__ import annotations

import numpy as np
import torch

from .path import choose_rules
from .reduction import BatchedFn, ReducedFunction
from .results import AttributionResult

PATH_DEFAULTS = dict(steps=None, method=None, rtol=1e-3, atol=1e-4, max_nodes=512, panel_nodes=6, seed=0)


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
) -> AttributionResult:
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

    Returns:
        :class:`AttributionResult` with float64 numpy attributions.
    """
    x = torch.as_tensor(x)
    reduced = ReducedFunction(f, x, 0.0 if baseline is None else baseline, groups, internal_batch_size)
    (result,) = integrated_gradients_reduced(reduced, steps=steps, method=method, rtol=rtol, atol=atol,
                                             max_nodes=max_nodes, panel_nodes=panel_nodes, seed=seed)
    if groups is None:
        result.attributions = result.attributions.reshape(tuple(x.shape))
    return result


def integrated_gradients_reduced(reduced: ReducedFunction, **path) -> list[AttributionResult]:
    """Integrated Gradients of every problem of ``reduced`` (model calls shared across problems).

    ``path``: the path-rule arguments of :func:`integrated_gradients`. Returns one result per problem, with
    attributions of length ``G_n`` (that problem's number of groups).
    """
    path = {**PATH_DEFAULTS, **path}
    rules = choose_rules(reduced, "uniform", **path)
    n = reduced.num_problems
    problems = np.concatenate([np.full(len(rule), j) for j, (rule, _) in enumerate(rules)] + [np.arange(n)] * 2)
    ts = np.concatenate([rule.nodes for rule, _ in rules] + [np.zeros(n), np.ones(n)])
    values, grads = reduced.gradients(ts, problems)
    results, offset = [], 0
    for j, (rule, info) in enumerate(rules):
        G = reduced.num_groups_each[j]
        attributions = rule.integrate(grads[offset : offset + len(rule), :G])
        offset += len(rule)
        f_baseline, f_input = float(values[-2 * n + j]), float(values[-n + j])
        error = abs(float(attributions.sum()) - (f_input - f_baseline))
        results.append(AttributionResult(attributions, f_input, f_baseline, error, rule, info))
    return results
