"""Integrated Hessians (Janizek, Sturmfels & Lee, 2021) of any differentiable batched scalar torch function."""

from __future__ import annotations

import numpy as np
import torch

from .integrated_gradients import PATH_DEFAULTS
from .path import choose_rules
from .reduction import BatchedFn, ReducedFunction
from .results import InteractionResult
from .smoothing import warn_if_relu_hessian


def integrated_hessians(
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
    progress=None,
) -> InteractionResult:
    """Integrated Hessians of ``f`` between groups of entries of ``x``.

    With ``g`` the reduced function of one coordinate per group (see :mod:`.reduction`) and
    ``t = a * b`` (density ``-ln t`` on ``[0, 1]``), the paper's double integral is

        Gamma = int_0^1 (-ln t) [ t * H(t) + diag(grad(t)) ] dt,

    with ``H``, ``grad`` the Hessian and gradient of ``g`` at ``t * 1``. ``Gamma`` is symmetric, its rows sum
    to the Integrated Gradients of each group and its total to ``f(x) - f(x')``.

    Args: as :func:`~transformers_ih.engine.integrated_gradients`; the adaptive rule (``steps=None``) uses
        Gauss panels for the weight ``-ln t`` refined on the scalar completeness integrand
        ``(-ln t) d/dt[t F'(t)]`` (a few passes per point along ``t`` only), then evaluates the ``G x G``
        Hessians (``G`` Hessian-vector products each) only at the final nodes. ``progress``: optional object
        with ``update(n)`` called as Hessian-vector products complete.

    Returns:
        :class:`InteractionResult`: ``interactions`` ``(G, G)`` (``(n, n)`` over flattened entries when
        ``groups=None``), ``attributions`` = row sums ``(G,)`` (or ``x.shape``), ``f_input``, ``f_baseline``,
        ``completeness_error``, the rule and adaptive info.
    """
    x = torch.as_tensor(x)
    reduced = ReducedFunction(f, x, 0.0 if baseline is None else baseline, groups, internal_batch_size)
    (result,) = integrated_hessians_reduced(reduced, progress=progress, steps=steps, method=method, rtol=rtol,
                                            atol=atol, max_nodes=max_nodes, panel_nodes=panel_nodes, seed=seed)
    warn_if_relu_hessian(result.interactions, lambda: f(x[None]))
    if groups is None:
        result.attributions = result.attributions.reshape(tuple(x.shape))
    return result


def raw_asymmetry(raw: np.ndarray) -> float:
    """``max |Gamma - Gamma^T| / max |Gamma|`` of the matrix as integrated, before it is symmetrised: float noise
    (about 1e-7 in float32) when the Hessian-vector products are right; 0 for an all-zero matrix."""
    scale = float(np.abs(raw).max()) if raw.size else 0.0
    return float(np.abs(raw - raw.T).max()) / scale if scale > 0 else 0.0


def integrated_hessians_reduced(reduced: ReducedFunction, progress=None, **path) -> list[InteractionResult]:
    """Integrated Hessians of every problem of ``reduced``: the adaptive rules refine in lockstep and the
    Hessian-vector products of all problems share model calls. Returns one result per problem (``G_n x G_n``)."""
    path = {**PATH_DEFAULTS, **path}
    # a final node costs G Hessian-vector products plus a gradient: about (G + 1) / 2 scalar path evaluations
    rules = choose_rules(reduced, "log", node_costs=[(g + 1) / 2 for g in reduced.num_groups_each], **path)
    n = reduced.num_problems
    problems = np.concatenate([np.full(len(rule), j) for j, (rule, _) in enumerate(rules)])
    ts = np.concatenate([rule.nodes for rule, _ in rules])
    if progress is not None and getattr(progress, "total", 0) is None:
        progress.total = int(sum(len(rule) * reduced.num_groups_each[j] for j, (rule, _) in enumerate(rules)))
    _, grads, hess = reduced.hessians(ts, problems, progress=progress)
    if all(info is not None for _, info in rules):  # the adaptive rules evaluated the path's ends already
        ends = np.array([info.f_baseline for _, info in rules] + [info.f_input for _, info in rules])
    else:
        ends = reduced.path_derivatives(np.concatenate([np.zeros(n), np.ones(n)]), 0,
                                        np.concatenate([np.arange(n)] * 2))[0]
    results, offset = [], 0
    for j, (rule, info) in enumerate(rules):
        G, K = reduced.num_groups_each[j], len(rule)
        h, g = hess[offset : offset + K, :G, :G], grads[offset : offset + K, :G]
        offset += K
        integrand = rule.nodes[:, None, None] * h + g[:, :, None] * np.eye(G)[None]
        raw = rule.integrate(integrand)
        gamma = 0.5 * (raw + raw.T)  # exact symmetry (double backward is symmetric up to rounding)
        f_baseline, f_input = float(ends[j]), float(ends[n + j])
        error = abs(float(gamma.sum()) - (f_input - f_baseline))
        results.append(InteractionResult(gamma.sum(axis=1), f_input, f_baseline, error, rule, info, interactions=gamma,
                                         meta={"raw_asymmetry": raw_asymmetry(raw)}))
    return results
