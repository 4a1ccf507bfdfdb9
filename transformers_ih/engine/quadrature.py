"""Quadrature rules on the straight path ``t in [0, 1]``.

Two measures occur:

* ``"uniform"`` (weight 1): Integrated Gradients, ``phi = int_0^1 grad g(t) dt``.
* ``"log"`` (weight ``-ln t``): Integrated Hessians. The double integral over ``a, b in [0, 1]`` of a function
  of ``t = a * b`` equals ``int_0^1 (-ln t) h(t) dt``, so
  ``Gamma = int_0^1 (-ln t) [t H(t) + diag(grad g(t))] dt``.

A :class:`PathRule` holds nodes ``t_k`` and weights ``w_k`` for one measure, so that
``int_0^1 w(t) h(t) dt ~= sum_k w_k h(t_k)``.

Gauss rules for a weight on ``[a, b]`` are built by the Lanczos process on a fine discretisation of the
measure (composite Gauss-Legendre, geometrically graded towards 0 for the log weight), which is stable for
any number of nodes, and exact for polynomials of degree ``2N - 1`` up to the discretisation accuracy
(about 1e-14).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MEASURES = ("uniform", "log")


@dataclass(frozen=True)
class PathRule:
    """Nodes and weights on ``[0, 1]`` for one measure.

    Attributes:
        nodes: ``(K,)`` float64 path positions ``t_k`` in ``[0, 1]``.
        weights: ``(K,)`` float64 weights ``w_k`` for the measure (they sum to 1 for both measures, since
            ``int_0^1 -ln t dt = 1``).
        measure: ``"uniform"`` or ``"log"``.
        name: a short description, e.g. ``"gauss(16)"``.
    """

    nodes: np.ndarray
    weights: np.ndarray
    measure: str
    name: str

    def __len__(self) -> int:
        return len(self.nodes)

    def integrate(self, values: np.ndarray) -> np.ndarray:
        """``sum_k w_k values[k]`` over the first axis."""
        return np.tensordot(self.weights, np.asarray(values), axes=(0, 0))


def _gauss_legendre_unit(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


def gauss_legendre(n: int, a: float = 0.0, b: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``n``-point Gauss-Legendre nodes and weights on ``[a, b]`` (weight 1)."""
    if n < 1:
        raise ValueError(f"need at least one node, got {n}")
    x, w = _gauss_legendre_unit(n)
    return a + (b - a) * x, (b - a) * w


def _log_weight_discretisation(a: float, b: float, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and weights of a discrete measure that integrates ``(-ln t) p(t)`` on ``[a, b]`` for
    polynomials ``p`` of degree ``<= degree`` to about machine precision."""
    m = max(24, degree // 2 + 12)
    if a > 0.0:
        # -ln t is analytic on [a, b]; grade geometrically so each sub-panel is at most a factor 2 long.
        k = max(1, int(np.ceil(np.log2(b / a))))
        edges = a * (b / a) ** (np.arange(k + 1) / k)
    else:
        # geometric grading towards the singularity; the last panel [0, b*2^-60] is negligible.
        levels = 60
        edges = np.concatenate([[0.0], b * 0.5 ** np.arange(levels, -1, -1)])
    xs, ws = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        x, w = gauss_legendre(m, lo, hi)
        xs.append(x)
        ws.append(w * -np.log(x))
    return np.concatenate(xs), np.concatenate(ws)


def gauss_from_discrete_measure(points: np.ndarray, weights: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n``-point Gauss rule of a positive discrete measure (Lanczos with full re-orthogonalisation,
    then Golub-Welsch)."""
    if n > len(points):
        raise ValueError("more nodes than points in the discrete measure")
    mu0 = weights.sum()
    q = np.sqrt(weights / mu0)
    basis = np.zeros((n, len(points)))
    alpha, beta = np.zeros(n), np.zeros(max(n - 1, 0))
    basis[0] = q
    for k in range(n):
        r = points * basis[k]
        alpha[k] = basis[k] @ r
        r -= alpha[k] * basis[k]
        if k > 0:
            r -= beta[k - 1] * basis[k - 1]
        r -= basis[: k + 1].T @ (basis[: k + 1] @ r)  # full re-orthogonalisation
        if k + 1 < n:
            beta[k] = np.linalg.norm(r)
            basis[k + 1] = r / beta[k]
    jacobi = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    nodes, vecs = np.linalg.eigh(jacobi)
    return nodes, mu0 * vecs[0] ** 2


@lru_cache(maxsize=4096)
def _gauss_log_cached(n: int, a: float, b: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    points, weights = _log_weight_discretisation(a, b, 2 * n - 1)
    nodes, w = gauss_from_discrete_measure(points, weights, n)
    return tuple(nodes), tuple(w)


def gauss_log(n: int, a: float = 0.0, b: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``n``-point Gauss rule for the weight ``-ln t`` on ``[a, b]`` (``0 <= a < b <= 1``).

    Exact (to ~1e-14) for ``int_a^b (-ln t) p(t) dt`` with ``deg p <= 2n - 1``; on ``[0, 1]`` the moments are
    ``int_0^1 t^k (-ln t) dt = 1 / (k + 1)^2``.
    """
    if n < 1:
        raise ValueError(f"need at least one node, got {n}")
    if not 0.0 <= a < b <= 1.0:
        raise ValueError(f"need 0 <= a < b <= 1, got [{a}, {b}]")
    nodes, w = _gauss_log_cached(n, float(a), float(b))
    return np.array(nodes), np.array(w)


def panel_rule(measure: str, n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """``n``-point Gauss rule on ``[a, b]`` for ``measure`` (``"uniform"`` or ``"log"``)."""
    if measure == "uniform":
        return gauss_legendre(n, a, b)
    if measure == "log":
        return gauss_log(n, a, b)
    raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")


def fixed_rule(measure: str, steps: int, method: str = "gauss", seed: int | None = 0) -> PathRule:
    """A fixed rule with ``steps`` path points.

    Args:
        measure: ``"uniform"`` (IG) or ``"log"`` (IH).
        steps: number of path points.
        method: ``"gauss"`` (Gauss-Legendre for IG, Gauss for ``-ln t`` for IH: the accurate choice);
            ``"riemann"`` (the paper's uniform sampling made deterministic: midpoints in ``alpha`` for IG;
            for IH the products ``alpha * beta`` over a ``sqrt(steps) x sqrt(steps)`` midpoint grid);
            ``"montecarlo"`` (the paper's random sampling: ``alpha ~ U(0, 1)``, and ``t = alpha * beta`` for
            IH; equal weights; ``seed`` makes it reproducible).
    """
    if steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if method == "gauss":
        nodes, weights = panel_rule(measure, steps, 0.0, 1.0)
    elif method == "riemann":
        if measure == "uniform":
            nodes = (np.arange(steps) + 0.5) / steps
        else:
            m = max(1, int(round(np.sqrt(steps))))
            grid = (np.arange(m) + 0.5) / m
            nodes = np.sort(np.outer(grid, grid).ravel())
        weights = np.full(len(nodes), 1.0 / len(nodes))
    elif method == "montecarlo":
        rng = np.random.default_rng(seed)
        nodes = rng.random(steps)
        if measure == "log":
            nodes = nodes * rng.random(steps)
        nodes = np.sort(nodes)
        weights = np.full(steps, 1.0 / steps)
    else:
        raise ValueError(f"unknown method {method!r}; expected 'gauss', 'riemann' or 'montecarlo'")
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {MEASURES}")
    return PathRule(
        np.asarray(nodes, dtype=np.float64), np.asarray(weights, dtype=np.float64), measure, f"{method}({len(nodes)})"
    )
