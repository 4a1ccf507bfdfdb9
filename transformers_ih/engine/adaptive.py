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

The tolerance is scale-aware: ``max(rtol |F(1) - F(0)|, atol, variation_rtol V)`` with ``V`` the path's total
variation ``int |F'| dt`` (estimated from every value of ``F`` evaluated, a lower bound that grows as the rule
refines) and ``variation_rtol = rtol / 10`` by default. Where ``F`` rises and falls back (``|F(1) - F(0)|`` tiny
against ``V``, e.g. an explained class near its baseline value) the attributions are of the size of ``V``, not of
``F(1) - F(0)``; a tolerance of ``rtol |F(1) - F(0)|`` would then lie below the float rounding of the panel
errors themselves. Wherever ``|F(1) - F(0)| >= V / 10`` the tolerance is ``rtol |F(1) - F(0)|`` (or ``atol``) as
before.

When the panel errors are at the float noise floor (within :attr:`AdaptiveRefiner.NOISE_FACTOR` times the
rounding of their own terms, in the function's dtype) and have stopped shrinking for
:attr:`AdaptiveRefiner.STALL_ROUNDS` rounds of bisection, refining further only adds noise: the rule stops,
keeps the panels of the round with the smallest summed error, and reports ``stagnated`` and the error reached
(not converged) with a :class:`NoiseFloorWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .quadrature import PathRule, panel_rule

PathFn = Callable[[np.ndarray, int], np.ndarray]
_Panel = tuple[np.ndarray, np.ndarray, float, float]  # a panel's rule: nodes, weights, error, quadrature


class NodeCapWarning(UserWarning):
    """The adaptive rule stopped at its node cap before reaching the tolerance."""


class NoiseFloorWarning(UserWarning):
    """The adaptive rule stopped at the float noise floor before reaching the tolerance."""


@dataclass
class AdaptiveInfo:
    """What the adaptive rule did.

    Attributes:
        tolerance: absolute tolerance (output units): ``max(rtol |F(1) - F(0)|, atol, variation_rtol *
            variation)``.
        estimated_error: sum over panels of ``|quadrature - exact|`` of the completeness integrand: the error
            reached (also when not converged).
        completeness_error: ``|sum of panel quadratures - (F(1) - F(0))|``; the completeness error the final
            attributions / interactions will have, up to floating-point error.
        converged: whether ``estimated_error <= tolerance``.
        scalar_evaluations: path points at which the scalar ``F`` (and derivatives) was evaluated.
        panels: final panel edges.
        f_baseline, f_input: ``F(0)`` and ``F(1)`` (the path's ends, always evaluated by the rule).
        variation: the path's total variation ``int_0^1 |F'(t)| dt`` as estimated from the values of ``F``
            evaluated (a lower bound).
        noise_floor: the float rounding estimated in the final panels' errors (``eps`` of the dtype times the
            magnitude of their terms); errors within :attr:`AdaptiveRefiner.NOISE_FACTOR` times it are noise.
        stagnated: the rule stopped because its errors stopped shrinking at the noise floor (then not
            ``converged``; ``estimated_error`` is the smallest summed error reached, whose panels are kept).
        capped: the rule stopped at ``max_nodes``.
    """

    tolerance: float
    estimated_error: float
    completeness_error: float
    converged: bool
    scalar_evaluations: int
    panels: list[tuple[float, float]] = field(default_factory=list)
    f_baseline: float = float("nan")
    f_input: float = float("nan")
    variation: float = float("nan")
    noise_floor: float = float("nan")
    stagnated: bool = False
    capped: bool = False


def _integrand(measure: str, t: np.ndarray, d: np.ndarray) -> np.ndarray:
    if measure == "uniform":
        return d[1]
    return d[1] + t * d[2]


def _antiderivative(measure: str, t: float, F: float, dF: float) -> float:
    """``A(t)`` with ``int_a^b integrand = A(b) - A(a)``."""
    if measure == "uniform" or t <= 0.0:
        return F
    return F - np.log(t) * t * dF


def _panels_to_split(errors: dict, tol: float, budget: int, strategy: str) -> list:
    """Which panels to bisect this round, worst first.

    ``"greedy"``: the fewest worst panels whose removal leaves at most ``tol / 2`` of error elsewhere
    (bisection shrinks a smooth panel's error by about ``2^(2n)``, so their halves rarely need more).
    ``"share"``: every panel with more than its equal share ``tol / (2 * panels)``.
    """
    worst = sorted(errors, key=errors.__getitem__, reverse=True)
    if strategy == "share":
        chosen = [p for p in worst if errors[p] > tol / (2 * len(errors))]
    elif strategy == "greedy":
        remaining, chosen = sum(errors.values()), []
        for p in worst:
            if remaining <= tol / 2:
                break
            chosen.append(p)
            remaining -= errors[p]
    else:
        raise ValueError(f"unknown refinement strategy {strategy!r}")
    return chosen[:budget] or worst[:1]


class AdaptiveRefiner:
    """The adaptive rule as a sequence of requests, so that several problems can refine in lockstep and share
    model calls. ``request()`` gives the path positions to evaluate next (``None`` when done); ``receive(d)``
    takes ``(order + 1, K)`` values ``F, F', F''`` there; ``result()`` gives the rule and its info.
    See :func:`adaptive_rule` for the arguments."""

    # stagnation at the float noise floor: summed panel errors within NOISE_FACTOR x their estimated rounding
    # that have not halved for STALL_ROUNDS rounds of bisection
    NOISE_FACTOR = 100.0
    STALL_ROUNDS = 3

    def __init__(
        self,
        measure: str,
        *,
        rtol: float = 1e-3,
        atol: float = 1e-4,
        panel_nodes: int = 6,
        initial_panels: int = 4,
        max_nodes: int = 512,
        strategy: str = "greedy",
        node_cost: float | None = None,
        variation_rtol: float | None = None,
        eps: float | None = None,
    ):
        self.measure, self.rtol, self.atol = measure, rtol, atol
        self.variation_rtol = rtol / 10 if variation_rtol is None else variation_rtol
        self.eps = float(np.finfo(np.float32).eps) if eps is None else float(eps)
        self.samples: dict[float, float] = {}  # t -> F(t), every value evaluated (for the path's variation)
        self.noise: dict[tuple[float, float], float] = {}  # panel -> rounding scale of its error
        self.stagnated = False
        # (summed error, panels) of the round with the smallest summed error
        self._best: tuple[float, dict[tuple[float, float], _Panel]] | None = None
        self._stall = 0  # rounds since the summed error last halved
        self.node_cost = node_cost
        self._coarsening: list | None = None  # the candidate rules being tested: (panel, n, nodes, weights)
        # panel -> {n: (nodes, weights, error, quadrature)} of the tested candidates
        self._tried: dict[tuple[float, float], dict[int, _Panel]] = {}
        self._coarsened = False
        self.panel_nodes, self.max_nodes, self.strategy = panel_nodes, max_nodes, strategy
        self.order = 1 if measure == "uniform" else 2
        self.ends: dict[float, tuple[float, float]] = {}  # t -> (F, F')
        self.panels: dict[tuple[float, float], _Panel] = {}  # nodes, w, err, Q
        self.evaluations = 0
        self.tol: float | None = None  # set by the first receive(), with delta
        self.delta: float | None = None
        self.capped = False
        edges = np.linspace(0.0, 1.0, initial_panels + 1)
        self._pending = self._plan(list(zip(edges[:-1], edges[1:])))

    def _plan(self, new_panels):
        rules = [panel_rule(self.measure, self.panel_nodes, a, b) for a, b in new_panels]
        new_ends = sorted({e for p in new_panels for e in p} - set(self.ends))
        ts = np.concatenate([np.asarray(new_ends, dtype=np.float64)] + [r[0] for r in rules])
        return new_panels, rules, new_ends, ts

    def request(self) -> np.ndarray | None:
        return None if self._pending is None else self._pending[3]

    def receive(self, d: np.ndarray) -> None:
        if self._coarsening is not None:
            self._receive_candidates(d)
            return
        new_panels, rules, new_ends, ts = self._pending
        self.evaluations += len(ts)
        self._sample(ts, d)
        for j, t in enumerate(new_ends):
            self.ends[t] = (d[0, j], d[1, j])
        offset = len(new_ends)
        for (a, b), (nodes, weights) in zip(new_panels, rules):
            vals = _integrand(self.measure, nodes, d[:, offset : offset + len(nodes)])
            offset += len(nodes)
            upper = _antiderivative(self.measure, b, *self.ends[b])
            lower = _antiderivative(self.measure, a, *self.ends[a])
            quad = float(weights @ vals)
            self.panels[(a, b)] = (nodes, weights, abs(quad - (upper - lower)), quad)
            self.noise[(a, b)] = self.eps * (abs(upper) + abs(lower) + float(np.abs(weights) @ np.abs(vals)))
        if self.delta is None:
            self.delta = self.ends[1.0][0] - self.ends[0.0][0]
        self.tol = self._tolerance()
        self._pending = self._next()

    def _sample(self, ts: np.ndarray, d: np.ndarray) -> None:
        self.samples.update(zip(np.asarray(ts, dtype=np.float64).tolist(), np.asarray(d[0], dtype=np.float64).tolist()))

    def variation(self) -> float:
        """``sum |F(t_{i+1}) - F(t_i)|`` over every evaluated position, in order: a lower bound of the path's total
        variation ``int_0^1 |F'(t)| dt`` that grows as the rule refines."""
        values = np.array([self.samples[t] for t in sorted(self.samples)])
        return float(np.abs(np.diff(values)).sum()) if len(values) > 1 else 0.0

    def _tolerance(self) -> float:
        """``max(rtol |delta|, atol, variation_rtol * variation)``; never decreases (the variation estimate only
        grows), so a panel judged accurate enough stays so."""
        delta = cast(float, self.delta)  # set by receive() before it asks for the tolerance
        tol = max(self.rtol * abs(delta), self.atol, self.variation_rtol * self.variation())
        return tol if self.tol is None else max(tol, self.tol)

    def noise_floor(self) -> float:
        return float(sum(self.noise[p] for p in self.panels))

    def _at_noise_floor(self, est: float) -> bool:
        """Track the summed error per round; ``True`` once it has stopped halving for ``STALL_ROUNDS`` rounds
        within ``NOISE_FACTOR`` times the rounding of its terms (then the best round's panels are restored)."""
        if self._best is None or est < 0.5 * self._best[0]:
            self._stall = 0
        else:
            self._stall += 1
        if self._best is None or est < self._best[0]:
            self._best = (est, dict(self.panels))
        if self._stall >= self.STALL_ROUNDS and est <= self.NOISE_FACTOR * self.noise_floor():
            self.panels = dict(self._best[1])
            return True
        return False

    def _next(self):
        errors = {p: v[2] for p, v in self.panels.items()}
        if sum(errors.values()) <= self.tol:
            return self._plan_coarsening()
        if self._at_noise_floor(sum(errors.values())):
            self.stagnated = True
            return None
        budget = (self.max_nodes - len(self.panels) * self.panel_nodes) // self.panel_nodes  # panels we may add
        if budget < 1:
            self.capped = True
            return None
        children = []
        for a, b in _panels_to_split(errors, self.tol, budget, self.strategy):
            del self.panels[(a, b)]
            m = 0.5 * (a + b)
            children += [(a, m), (m, b)]
        return self._plan(children)

    # ------------------------------------------------------------------ coarsening (final rule with fewer nodes)
    # Once the tolerance is met, the panels' errors usually sum to well under it, and panels far from the path's
    # sharp transitions are integrated far more exactly than needed. When a final node is expensive (Integrated
    # Hessians: one Hessian-vector product per group), panels are offered lower-order Gauss rules: each
    # candidate's error is exact (closed form, as above) and costs a few scalar evaluations; candidates are
    # tried where the panel's error is far below its share of the tolerance, and kept (fewest nodes per unit of
    # error first) while the summed error stays within the tolerance.
    COARSEN_MIN_NODE_COST = 4.0  # in scalar evaluations; below it the tests would cost more than they save
    _FIRST_TRY = ((0.003, 3), (0.1, 4))  # (panel error / its share of the tolerance below which, order to try)
    _SECOND_TRY = 0.02  # a tried order this far below the share: also try one node fewer

    def _plan_coarsening(self):
        """The next candidates to test (``None`` when done, after choosing among those tested)."""
        if self._coarsened or self.node_cost is None or self.node_cost < self.COARSEN_MIN_NODE_COST:
            return None
        share = self.tol / len(self.panels)
        candidates = []
        for panel, (nodes, _, err, _) in self.panels.items():
            order = self._order_to_try(panel, len(nodes), err, share)
            if order:
                candidates.append((panel, order, *panel_rule(self.measure, order, *panel)))
        if not candidates:
            self._finish_coarsening()
            return None
        self._coarsening = candidates
        return None, None, None, np.concatenate([c[2] for c in candidates])

    def _order_to_try(self, panel, nodes: int, error: float, share: float) -> int | None:
        if not self._tried:  # first round: from the panel's own error
            return next((n for ratio, n in self._FIRST_TRY if error < ratio * share and n < nodes), None)
        tried = self._tried.get(panel)
        if not tried:
            return None
        lowest = min(tried)
        return lowest - 1 if lowest > 1 and tried[lowest][2] < self._SECOND_TRY * share else None

    def _receive_candidates(self, d: np.ndarray) -> None:
        candidates = cast(list, self._coarsening)  # receive() calls this while candidates are being tested
        offset = 0
        for (a, b), order, x, w in candidates:
            vals = _integrand(self.measure, x, d[:, offset : offset + len(x)])
            offset += len(x)
            exact = _antiderivative(self.measure, b, *self.ends[b]) - _antiderivative(self.measure, a, *self.ends[a])
            quad = float(w @ vals)
            self._tried.setdefault((a, b), {})[order] = (x, w, abs(quad - exact), quad)
        self.evaluations += offset
        self._sample(np.concatenate([c[2] for c in candidates]), d)
        self._coarsening = None
        self._pending = self._plan_coarsening()  # finishes the coarsening when nothing is left to try

    def _finish_coarsening(self) -> None:
        """Lower panels' orders, cheapest error per saved node first, while the summed error stays in tolerance."""
        self._coarsened = True
        slack = cast(float, self.tol) - sum(v[2] for v in self.panels.values())  # the tolerance was met
        while True:
            best = None
            for panel, tried in self._tried.items():
                current = self.panels[panel]
                for order, rule in tried.items():
                    saved = len(current[0]) - order
                    cost = rule[2] - current[2]
                    if saved > 0 and cost <= slack and (best is None or cost / saved < best[0]):
                        best = (cost / saved, panel, rule, cost)
            if best is None:
                return
            _, panel, rule, cost = best
            self.panels[panel] = rule
            slack -= cost

    def result(self) -> tuple[PathRule, AdaptiveInfo]:
        ordered = sorted(self.panels)
        nodes = np.concatenate([self.panels[p][0] for p in ordered])
        weights = np.concatenate([self.panels[p][1] for p in ordered])
        est = float(sum(self.panels[p][2] for p in ordered))
        tol, delta = cast(float, self.tol), cast(float, self.delta)  # set by the first receive()
        if self.capped:
            warnings.warn(
                f"adaptive path rule stopped at its cap of {self.max_nodes} nodes with estimated completeness "
                f"error {est:.3g} > tolerance {tol:.3g}; raise max_nodes (or rtol) for a more exact result",
                NodeCapWarning,
                stacklevel=4,
            )
        elif self.stagnated:
            warnings.warn(
                f"adaptive path rule stopped at the float noise floor with estimated completeness error {est:.3g} > "
                f"tolerance {tol:.3g} (|f(x) - f(x')| = {abs(delta):.3g}, path variation "
                f"{self.variation():.3g}): its panel errors stopped shrinking; a wider dtype (float64) would reach "
                f"further",
                NoiseFloorWarning,
                stacklevel=4,
            )
        info = AdaptiveInfo(
            tolerance=float(tol),
            estimated_error=est,
            completeness_error=abs(float(sum(self.panels[p][3] for p in ordered)) - delta),
            converged=est <= tol,
            scalar_evaluations=self.evaluations,
            panels=[(float(a), float(b)) for a, b in ordered],
            f_baseline=float(self.ends[0.0][0]),
            f_input=float(self.ends[1.0][0]),
            variation=self.variation(),
            noise_floor=self.noise_floor(),
            stagnated=self.stagnated,
            capped=self.capped,
        )
        return PathRule(nodes, weights, self.measure, f"adaptive({len(nodes)})"), info


def adaptive_rules(
    path_fn: Callable[[np.ndarray, int, np.ndarray], np.ndarray],
    num_problems: int,
    measure: str,
    node_costs=None,
    **kwargs,
) -> list[tuple[PathRule, AdaptiveInfo]]:
    """:func:`adaptive_rule` for ``num_problems`` problems at once: each round, the positions every
    unfinished problem asks for are evaluated in one call ``path_fn(ts, order, problems)``. ``node_costs``:
    optional cost of one final node of each problem, in scalar evaluations (see ``node_cost``)."""
    costs = [None] * num_problems if node_costs is None else list(node_costs)
    refiners = [AdaptiveRefiner(measure, node_cost=c, **kwargs) for c in costs]
    order = refiners[0].order if refiners else 0
    while True:
        active = [(j, t) for j, r in enumerate(refiners) if (t := r.request()) is not None]
        if not active:
            break
        ts = np.concatenate([t for _, t in active])
        problems = np.concatenate([np.full(len(t), j) for j, t in active])
        d = path_fn(ts, order, problems)
        offset = 0
        for j, t in active:
            refiners[j].receive(d[:, offset : offset + len(t)])
            offset += len(t)
    return [r.result() for r in refiners]


def adaptive_rule(
    path_fn: PathFn,
    measure: str,
    **kwargs,
) -> tuple[PathRule, AdaptiveInfo]:
    """Build a composite Gauss rule on ``[0, 1]`` that integrates the completeness integrand to tolerance.

    Args:
        path_fn: ``path_fn(ts, order)`` returns ``(order + 1, K)`` values ``F, F', F''`` at positions ``ts``.
        measure: ``"uniform"`` (IG) or ``"log"`` (IH).
        rtol, atol: stop when the summed panel error is ``<= max(rtol * |F(1) - F(0)|, atol,
            variation_rtol * V)`` (``V`` the path's total variation; see the module docstring).
        variation_rtol: default ``rtol / 10``.
        eps: the machine epsilon of the function's dtype (default float32's), for the noise floor.
        panel_nodes: Gauss nodes per panel (default 6).
        initial_panels: equal panels to start from (default 4).
        max_nodes: cap on final nodes (default 512); a :class:`NodeCapWarning` is issued when it stops
            refinement early.
        strategy: which panels to bisect each round (``"greedy"``, default, or ``"share"``).
        node_cost: the cost of evaluating the final rule at one node, in scalar evaluations (``path_fn`` per
            point). From :attr:`AdaptiveRefiner.COARSEN_MIN_NODE_COST` up, the converged rule is coarsened:
            lower-order Gauss rules are tried on panels with error to spare and kept within the tolerance.
    """
    node_cost = kwargs.pop("node_cost", None)
    (result,) = adaptive_rules(
        lambda ts, order, problems: path_fn(ts, order), 1, measure, node_costs=[node_cost], **kwargs
    )
    return result
