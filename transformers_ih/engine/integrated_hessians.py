"""Integrated Hessians (Janizek, Sturmfels & Lee, 2021) of any differentiable batched scalar torch function."""

from __future__ import annotations

from typing import cast

import numpy as np
import torch

from .path import PathSettings, choose_rules
from .reduction import BatchedFn, ReducedFunction
from .results import PathResult
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
) -> PathResult:
    """Integrated Hessians of ``f`` between groups of entries of ``x``.

    With ``g`` the reduced function of one coordinate per group (see :mod:`.reduction`) and
    ``t = a * b`` (density ``-ln t`` on ``[0, 1]``), the paper's double integral is

        Gamma = int_0^1 (-ln t) [ t * H(t) + diag(grad(t)) ] dt,

    with ``H``, ``grad`` the Hessian and gradient of ``g`` at ``t * 1``. ``Gamma`` is symmetric, its rows sum
    to the Integrated Gradients of each group and its total to ``f(x) - f(x')``. (For selected rows only, see
    :func:`integrated_hessians_reduced`.)

    Arguments as for :func:`~transformers_ih.engine.integrated_gradients`; the adaptive rule (``steps=None``) uses
        Gauss panels for the weight ``-ln t`` refined on the scalar completeness integrand
        ``(-ln t) d/dt[t F'(t)]`` (a few passes per point along ``t`` only), then evaluates the ``G x G``
        Hessians (``G`` Hessian-vector products each) only at the final nodes. ``progress``: optional object
        with ``update(n)`` called as Hessian-vector products complete. (The path arguments make a
        :class:`~.path.PathSettings`.)

    Returns:
        :class:`~.results.PathResult`: ``interactions`` ``(G, G)`` (``(n, n)`` over flattened entries when
        ``groups=None``), ``attributions`` = row sums ``(G,)`` (or ``x.shape``), ``f_input``, ``f_baseline``,
        ``completeness_error``, the rule and adaptive info.
    """
    path = PathSettings(
        steps=steps, method=method, rtol=rtol, atol=atol, max_nodes=max_nodes, panel_nodes=panel_nodes, seed=seed
    )
    x = torch.as_tensor(x)
    reduced = ReducedFunction(f, x, 0.0 if baseline is None else baseline, groups, internal_batch_size)
    (result,) = integrated_hessians_reduced(reduced, path, progress=progress)
    warn_if_relu_hessian(result.interactions, lambda: f(x[None]))
    if groups is None:
        result.attributions = result.attributions.reshape(tuple(x.shape))
    return result


def raw_asymmetry(raw: np.ndarray) -> float:
    """``max |Gamma - Gamma^T| / max |Gamma|`` of the matrix as integrated, before it is symmetrised: float noise
    (about 1e-7 in float32) when the Hessian-vector products are right; 0 for an all-zero matrix."""
    scale = float(np.abs(raw).max()) if raw.size else 0.0
    return float(np.abs(raw - raw.T).max()) / scale if scale > 0 else 0.0


def integrated_hessians_reduced(
    reduced: ReducedFunction, path: PathSettings, *, rows=None, progress=None
) -> list[PathResult]:
    """Integrated Hessians of every problem of ``reduced`` along the path rule ``path`` (see
    :class:`~.path.PathSettings`): the adaptive rules refine in lockstep and the Hessian-vector products of all
    problems share model calls. Returns one result per problem (``G_n x G_n``). ``progress``: optional object
    with ``update(n)`` called as Hessian-vector products complete (its ``total`` is set when it is ``None``).

    ``rows``: ``None`` (default): full matrices (``G_n`` Hessian-vector products per path point). Else one entry
    per problem: a list of group indices ``S_n`` (or ``None`` for that problem's full matrix). Only the rows of
    ``S_n`` are computed: ``|S_n| + 1`` products per path point (``e_j`` for ``j in S_n``, and the path
    direction ``1``). Each result's ``interactions`` then holds exact rows ``S_n`` and, by symmetry, the matching
    columns, with ``NaN`` elsewhere and the boolean mask ``computed``; ``attributions`` are exact for every group
    through ``phi_i = int (-ln t) [t (H(t) 1)_i + grad_i(t)] dt`` at the same path points (so completeness holds
    through them), and each computed row sums to its attribution up to float rounding (the double backward's
    symmetry). The path rule is chosen as for full matrices; only the adaptive rule's cost of a final node
    (used to trade scalar evaluations for fewer nodes) counts the products actually computed.
    """
    n = reduced.num_problems
    if rows is not None and len(rows) != n:
        raise ValueError(f"rows has {len(rows)} entries for {n} problems (one list of group indices per problem)")
    selections = (
        [None] * n
        if rows is None
        else [None if r is None else _selection(r, G, j) for j, (r, G) in enumerate(zip(rows, reduced.num_groups_each))]
    )
    # products per final node: G (full) or |S| + 1 (selected rows); with the gradient, a final node costs about
    # (products + 1) / 2 scalar path evaluations
    products = [G if sel is None else len(sel) + 1 for sel, G in zip(selections, reduced.num_groups_each)]
    rules = choose_rules(reduced, "log", path, node_costs=[(m + 1) / 2 for m in products])
    problems = np.concatenate([np.full(len(rule), j) for j, (rule, _) in enumerate(rules)])
    ts = np.concatenate([rule.nodes for rule, _ in rules])
    if progress is not None and getattr(progress, "total", 0) is None:
        progress.total = int(sum(len(rule) * m for (rule, _), m in zip(rules, products)))
    if rows is None:
        _, grads, hess = reduced.hessians(ts, problems, progress=progress)
        along = None
    else:
        _, grads, hess, along = reduced.hessian_columns(ts, selections, problems, progress=progress)
    infos = [info for _, info in rules if info is not None]
    ends: np.ndarray
    if len(infos) == len(rules):  # the adaptive rules evaluated the path's ends already
        ends = np.array([info.f_baseline for info in infos] + [info.f_input for info in infos])
    else:
        ends = reduced.path_derivatives(
            np.concatenate([np.zeros(n), np.ones(n)]), 0, np.concatenate([np.arange(n)] * 2)
        )[0]
    results, offset = [], 0
    for j, (rule, info) in enumerate(rules):
        G, K = reduced.num_groups_each[j], len(rule)
        h, g = hess[offset : offset + K, :G, :G], grads[offset : offset + K, :G]
        a = None if along is None else along[offset : offset + K, :G]
        offset += K
        f_baseline, f_input = float(ends[j]), float(ends[n + j])
        selection = selections[j]
        if selection is None:
            gamma, attributions, computed, asym = _full_matrix(rule, h, g)
        else:  # rows were given, so the products with the path direction (along) were computed
            gamma, attributions, computed, asym = _selected_rows(rule, h, g, cast(np.ndarray, a), selection)
        error = abs(float(attributions.sum()) - (f_input - f_baseline))
        results.append(
            PathResult(
                attributions,
                f_input,
                f_baseline,
                error,
                rule,
                info,
                interactions=gamma,
                computed=computed,
                meta={"raw_asymmetry": asym},
            )
        )
    return results


def _selection(selected, G: int, problem: int) -> list[int]:
    try:
        out = sorted({int(i) for i in selected})
    except (TypeError, ValueError):
        raise TypeError(f"rows[{problem}] must be a list of group indices (or None), got {selected!r}") from None
    bad = [i for i in out if not 0 <= i < G]
    if bad:
        raise ValueError(f"rows[{problem}] has group indices {bad} outside 0..{G - 1}")
    return out


def _full_matrix(rule, h: np.ndarray, g: np.ndarray):
    G = g.shape[1]
    integrand = rule.nodes[:, None, None] * h + g[:, :, None] * np.eye(G)[None]
    raw = rule.integrate(integrand)
    gamma = 0.5 * (raw + raw.T)  # exact symmetry (double backward is symmetric up to rounding)
    return gamma, gamma.sum(axis=1), None, raw_asymmetry(raw)


def _selected_rows(rule, h: np.ndarray, g: np.ndarray, along: np.ndarray, selected: list[int]):
    """Rows ``S`` (and columns, by symmetry) from the products ``h[k, :, S] = H(t_k) e_S`` and the attributions of
    every group from ``along[k] = H(t_k) 1``."""
    G, S = g.shape[1], np.asarray(selected, dtype=np.int64)
    t = rule.nodes
    cols = t[:, None, None] * h[:, :, S]  # (K, G, |S|): t H e_j
    cols[:, S, np.arange(len(S))] += g[:, S]  # + grad_j e_j
    raw = rule.integrate(cols)  # (G, |S|): columns S of the matrix as integrated
    attributions = rule.integrate(t[:, None] * along + g)
    block = raw[S]  # (|S|, |S|)
    sym = 0.5 * (block + block.T)
    gamma = np.full((G, G), np.nan)
    gamma[:, S] = raw
    gamma[S, :] = raw.T
    gamma[np.ix_(S, S)] = sym
    computed = np.zeros((G, G), dtype=bool)
    computed[S, :] = computed[:, S] = True
    return gamma, attributions, computed, raw_asymmetry(block)
