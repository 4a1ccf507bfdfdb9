"""Integrated Hessians (Janizek, Sturmfels & Lee, 2021) of any differentiable batched scalar torch function."""

from __future__ import annotations

import numpy as np
import torch

from .path import choose_rule
from .reduction import BatchedFn, ReducedFunction
from .results import InteractionResult


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
    rule, info = choose_rule(reduced, "log", steps=steps, method=method, rtol=rtol, atol=atol,
                             max_nodes=max_nodes, panel_nodes=panel_nodes, seed=seed)
    _, grads, hess = reduced.hessians(rule.nodes, progress=progress)
    t = rule.nodes[:, None, None]
    integrand = t * hess + grads[:, :, None] * np.eye(reduced.num_groups)[None]
    gamma = rule.integrate(integrand)
    gamma = 0.5 * (gamma + gamma.T)  # exact symmetry (double backward is symmetric up to rounding)
    ends = reduced.path_derivatives(np.array([0.0, 1.0]), order=0)[0]
    f_baseline, f_input = float(ends[0]), float(ends[1])
    attributions = gamma.sum(axis=1)
    error = abs(float(gamma.sum()) - (f_input - f_baseline))
    if groups is None:
        attributions = attributions.reshape(tuple(x.shape))
    return InteractionResult(attributions, f_input, f_baseline, error, rule, info, interactions=gamma)
