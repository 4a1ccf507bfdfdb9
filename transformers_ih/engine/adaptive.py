"""Adaptive path rule guided by the scalar completeness integrand.

The completeness of a path rule can be checked exactly, and per panel, from a cheap scalar function of ``t``:

* IG (measure ``"uniform"``): ``sum_i phi_i = int_0^1 F'(t) dt`` and on a panel ``int_a^b F' = F(b) - F(a)``.
* IH (measure ``"log"``): ``sum_ij Gamma_ij = int_0^1 (-ln t) [F'(t) + t F''(t)] dt`` and, integrating by parts,
  ``int_a^b (-ln t) d/dt[t F'(t)] dt = [(-ln t) t F'(t)]_a^b + F(b) - F(a)``.

Here ``F(t) = g(t * 1)`` (the model along the straight path). So each panel's quadrature error on the
completeness integrand is known exactly from ``F`` and ``F'`` at its ends: an embedded error estimate that
costs two scalar evaluations per panel end and reuses them between neighbours. Panels (Gauss-Legendre, or
Gauss for ``-ln t``) are bisected where this error is largest until the sum of panel errors meets the
tolerance; the expensive per-group Hessians are then evaluated only at the final nodes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .quadrature import PathRule, panel_rule

PathFn = Callable[[np.ndarray, int], np.ndarray]


class NodeCapWarning(UserWarning):
    """The adaptive rule stopped at its node cap before reaching the tolerance."""


@dataclass
class AdaptiveInfo:
    """What the adaptive rule did.

    Attributes:
        tolerance: absolute tolerance asked for (output units).
        estimated_error: sum over panels of ``|quadrature - exact|`` of the completeness integrand.
        completeness_error: ``|sum of panel quadratures - (F(1) - F(0))|``; the completeness error the final
            attributions / interactions will have, up to floating-point error.
        converged: whether ``estimated_error <= tolerance``.
        scalar_evaluations: path points at which the scalar ``F`` (and derivatives) was evaluated.
        panels: final panel edges.
    """

    tolerance: float
    estimated_error: float
    completeness_error: float
    converged: bool
    scalar_evaluations: int
    panels: list[tuple[float, float]] = field(default_factory=list)


def _integrand(measure: str, t: np.ndarray, d: np.ndarray) -> np.ndarray:
    if measure == "uniform":
        return d[1]
    return d[1] + t * d[2]


def _antiderivative(measure: str, t: float, F: float, dF: float) -> float:
    """``A(t)`` with ``int_a^b integrand = A(b) - A(a)``."""
    if measure == "uniform" or t <= 0.0:
        return F
    return F - np.log(t) * t * dF


def adaptive_rule(
    path_fn: PathFn,
    measure: str,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-4,
    panel_nodes: int = 6,
    initial_panels: int = 4,
    max_nodes: int = 512,
) -> tuple[PathRule, AdaptiveInfo]:
    """Build a composite Gauss rule on ``[0, 1]`` that integrates the completeness integrand to tolerance.

    Args:
        path_fn: ``path_fn(ts, order)`` returns ``(order + 1, K)`` values ``F, F', F''`` at positions ``ts``.
        measure: ``"uniform"`` (IG) or ``"log"`` (IH).
        rtol, atol: stop when the summed panel error is ``<= max(rtol * |F(1) - F(0)|, atol)``.
        panel_nodes: Gauss nodes per panel.
        initial_panels: equal panels to start from.
        max_nodes: cap on final nodes; a :class:`NodeCapWarning` is issued when it stops refinement early.
    """
    order = 1 if measure == "uniform" else 2
    edges = np.linspace(0.0, 1.0, initial_panels + 1)
    ends: dict[float, tuple[float, float]] = {}  # t -> (F, F')
    panels: dict[tuple[float, float], tuple[np.ndarray, np.ndarray, float, float]] = {}  # nodes, weights, err, Q
    evaluations = 0

    def evaluate(new_panels: list[tuple[float, float]]) -> None:
        nonlocal evaluations
        rules = [panel_rule(measure, panel_nodes, a, b) for a, b in new_panels]
        new_ends = sorted({e for p in new_panels for e in p} - set(ends))
        ts = np.concatenate([np.asarray(new_ends, dtype=np.float64)] + [r[0] for r in rules])
        d = path_fn(ts, order)
        evaluations += len(ts)
        for j, t in enumerate(new_ends):
            ends[t] = (d[0, j], d[1, j])
        offset = len(new_ends)
        for (a, b), (nodes, weights) in zip(new_panels, rules):
            vals = _integrand(measure, nodes, d[:, offset : offset + len(nodes)])
            offset += len(nodes)
            exact = _antiderivative(measure, b, *ends[b]) - _antiderivative(measure, a, *ends[a])
            quad = float(weights @ vals)
            panels[(a, b)] = (nodes, weights, abs(quad - exact), quad)

    evaluate(list(zip(edges[:-1], edges[1:])))
    delta = ends[1.0][0] - ends[0.0][0]
    tol = max(rtol * abs(delta), atol)
    while True:
        errors = {p: v[2] for p, v in panels.items()}
        total = sum(errors.values())
        if total <= tol:
            break
        budget = (max_nodes - len(panels) * panel_nodes) // panel_nodes  # extra panels we may add
        if budget < 1:
            warnings.warn(
                f"adaptive path rule stopped at its cap of {max_nodes} nodes with estimated completeness error "
                f"{total:.3g} > tolerance {tol:.3g}; raise max_nodes (or rtol) for a more exact result",
                NodeCapWarning,
                stacklevel=3,
            )
            break
        # bisect the panels that carry more than their share of the tolerance, worst first
        worst = sorted(errors, key=errors.get, reverse=True)
        to_split = [p for p in worst if errors[p] > tol / (2 * len(panels))][:budget] or worst[:1]
        children = []
        for a, b in to_split:
            del panels[(a, b)]
            m = 0.5 * (a + b)
            children += [(a, m), (m, b)]
        evaluate(children)

    ordered = sorted(panels)
    nodes = np.concatenate([panels[p][0] for p in ordered])
    weights = np.concatenate([panels[p][1] for p in ordered])
    est = sum(panels[p][2] for p in ordered)
    info = AdaptiveInfo(
        tolerance=tol,
        estimated_error=est,
        completeness_error=abs(sum(panels[p][3] for p in ordered) - delta),
        converged=est <= tol,
        scalar_evaluations=evaluations,
        panels=[(float(a), float(b)) for a, b in ordered],
    )
    return PathRule(nodes, weights, measure, f"adaptive({len(nodes)})"), info
