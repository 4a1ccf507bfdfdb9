"""Result objects of the engine (plain data; numpy float64 arrays).

:class:`PathResult` is the result of every path integral of one input (Integrated Gradients, Integrated Hessians,
full or selected rows, and their average over several baselines: :func:`average_over_baselines`).
:class:`ExpectedResult` is the one exception: the Monte Carlo estimator's result for a batch of rows (see its
docstring for why it is a type of its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from .adaptive import AdaptiveInfo
from .quadrature import PathRule


@dataclass
class PathResult:
    """Integrated Gradients (``interactions=None``) or Integrated Hessians of a scalar function for one input.

    Attributes:
        attributions: ``(G,)`` per group (or ``x.shape`` when ``groups=None``), in units of ``f``.
        f_input, f_baseline: ``f(x)`` and ``f(x')`` (for an average over baselines, the mean of ``f(x'_k)``).
        completeness_error: ``|sum(attributions) - (f_input - f_baseline)|``, in units of ``f``.
        rule: the path rule used (``len(rule)`` path points; for an average over ``K`` baselines, the ``K``
            rules' nodes with their weights divided by ``K``).
        adaptive: what the adaptive rule did, or ``None`` for a fixed rule.
        interactions: ``None`` (Integrated Gradients), or the ``(G, G)`` symmetric Integrated Hessians (``(n, n)``
            over flattened entries when ``groups=None``): rows sum to ``attributions`` (self-completeness) and
            the total to ``f_input - f_baseline`` up to ``completeness_error``.
        computed: ``None`` for a full matrix; for selected rows (``integrated_hessians_reduced(..., rows=...)``)
            the boolean ``(G, G)`` mask of the entries computed: the selected rows and, by symmetry, their
            columns. Every other entry of ``interactions`` is ``NaN`` (never 0). ``attributions`` are then exact
            for every group (through ``phi = int (-ln t) [t H 1 + grad] dt`` at the same path points), and each
            computed row sums to its attribution.
        attributions_se, interactions_se: standard errors (same shapes) of an average over ``K > 1`` baselines
            (the spread over the baselines / ``sqrt(K)``), else ``None``.
        meta: extra facts: ``"raw_asymmetry"`` for interactions (``max |Gamma - Gamma^T| / max |Gamma|`` of the
            matrix before it was symmetrised, over the selected block for selected rows: float noise when the
            double backward is right); for an average over baselines (:func:`average_over_baselines`) also
            ``"background"``, ``"baseline_samples"``, ``"baseline_values"`` and the standard errors as lists.
    """

    attributions: np.ndarray
    f_input: float
    f_baseline: float
    completeness_error: float
    rule: PathRule
    adaptive: AdaptiveInfo | None = None
    interactions: np.ndarray | None = None
    computed: np.ndarray | None = None
    attributions_se: np.ndarray | None = None
    interactions_se: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """Path points of the rule."""
        return len(self.rule)


def average_over_baselines(results: list[PathResult], background: str) -> PathResult:
    """The mean of ``K = len(results)`` per-baseline results of ONE input, shaped like one result.

    Attributions and interactions are the means over the baselines, ``f_baseline`` the mean of ``f(x'_k)`` and
    ``completeness_error`` is recomputed against it; standard errors (``std(ddof=1) / sqrt(K)``) when ``K > 1``.
    The rule holds the ``K`` rules' nodes with weights ``/ K``; the adaptive infos are combined (largest
    tolerance, mean errors, converged if all did, scalar evaluations summed). ``background`` describes where the
    baselines came from (``meta["background"]``). ``computed`` is the first result's (the baselines of one input
    share the rows computed).
    """
    K = len(results)
    first = results[0]
    attr = np.stack([np.asarray(r.attributions) for r in results])
    # one input's baselines all have interactions, or none has
    inter = None if first.interactions is None else np.stack([cast(np.ndarray, r.interactions) for r in results])
    f_input = float(first.f_input)
    f_base = float(np.mean([r.f_baseline for r in results]))
    mean_attr = attr.mean(0)
    total = float(mean_attr.sum())  # = the interactions' total for full matrices
    attr_se = _standard_error(attr, K)
    inter_se = None if inter is None else _standard_error(inter, K)
    rule = PathRule(
        np.concatenate([r.rule.nodes for r in results]),
        np.concatenate([r.rule.weights for r in results]) / K,
        first.rule.measure,
        f"expected({K} x {first.rule.name.split('(')[0]})",
    )
    with_interactions = inter is not None
    meta = {
        "background": background,
        "baseline_samples": K,
        **({"raw_asymmetry": max(r.meta.get("raw_asymmetry", 0.0) for r in results)} if with_interactions else {}),
        "baseline_values": [float(r.f_baseline) for r in results],
        "attributions_se": _as_list(attr_se),
        **({"interactions_se": _as_list(inter_se)} if with_interactions else {}),
    }
    return PathResult(
        attributions=mean_attr,
        f_input=f_input,
        f_baseline=f_base,
        completeness_error=abs(total - (f_input - f_base)),
        rule=rule,
        adaptive=_combined_adaptive([r.adaptive for r in results if r.adaptive is not None]),
        interactions=None if inter is None else inter.mean(0),
        computed=first.computed,
        attributions_se=attr_se,
        interactions_se=inter_se,
        meta=meta,
    )


def _standard_error(stacked: np.ndarray, K: int) -> np.ndarray | None:
    """The standard error of the mean over axis 0 of ``K`` per-baseline values, ``None`` when ``K = 1``."""
    return stacked.std(0, ddof=1) / np.sqrt(K) if K > 1 else None


def _as_list(a: np.ndarray | None):
    return None if a is None else a.tolist()


def _combined_adaptive(infos: list[AdaptiveInfo]) -> AdaptiveInfo | None:
    if not infos:
        return None
    return AdaptiveInfo(
        tolerance=max(i.tolerance for i in infos),
        estimated_error=float(np.mean([i.estimated_error for i in infos])),
        completeness_error=float(np.mean([i.completeness_error for i in infos])),
        converged=all(i.converged for i in infos),
        scalar_evaluations=sum(i.scalar_evaluations for i in infos),
    )


@dataclass
class ExpectedResult:
    """Expected Gradients (and Hessians) of a scalar function for one input or a batch of rows.

    Why not a :class:`PathResult`: this is the Monte Carlo estimator's result for ``N`` rows at once, each row's
    numbers averaged over baselines drawn from a background, with the sampling statistics that go with it
    (standard errors, the gap to ``E_D[f(x')]`` and its standard error, the draw itself). It has no single path
    rule (each baseline's path may use sampled positions or its own adaptive rule) and its ``steps`` is a mean
    (a float), so folding it into :class:`PathResult` would leave ``rule`` empty and give every field a batch
    axis there. (An exact average over a few given baselines of one input is a :class:`PathResult`:
    :func:`average_over_baselines`.)

    Shapes below are for a batch of ``N`` rows; for a single input (``x`` of the background's row shape) the
    leading ``N`` axis is dropped and per-row numbers are floats.

    Attributes:
        attributions: ``(N, G)`` expected attributions per group (``(N, *shape)`` when ``groups=None``).
        attributions_se: their standard errors (same shape): the Monte Carlo uncertainty of each entry.
        interactions: ``(N, G, G)`` expected interactions (symmetric; rows sum to ``attributions``), or
            ``None`` for :func:`expected_gradients`.
        interactions_se: their standard errors, or ``None``.
        f_input: ``f(x)``.
        f_baseline: mean of ``f`` over the baselines drawn for the row.
        f_background: mean of ``f`` over the whole background, ``E_D[f(x')]``.
        completeness_gap: ``sum(attributions) - (f_input - f_background)``: zero in expectation.
        completeness_se: standard error of ``sum(attributions)``; ``|gap| / se`` beyond about 3 says the
            quadrature (``steps``) rather than sampling is off.
        quadrature_error: ``|mean over baselines of [sum(IG or IH for x') - (f(x) - f(x'))]|``: the path rule's
            own completeness error, free of sampling noise for deterministic rules (0 up to rounding when the
            rule is exact).
        samples: baselines per row ``n``.
        steps: path points per baseline (their mean for ``"adaptive"``).
        path_samples: ``"gauss"``, ``"stratified"``, ``"random"`` or ``"adaptive"``.
        replace: whether baselines were drawn with replacement.
        exact: ``True`` when every background row was used once with a deterministic path rule: no sampling
            error (standard errors are 0).
        baseline_indices: ``(N, n)`` background rows used for each input row.
        model_evaluations: rows passed to ``f`` in total, the forward passes for ``f_input`` / ``f_background``
            included (a gradient point is one row; a Hessian point one row whose ``G`` Hessian-vector products
            share its forward pass, or ``G`` rows where the model cannot batch them that way).
        path_points: ``(row, baseline, t)`` points at which gradients (or Hessians) were evaluated: the cost
            unit to compare estimators by.
        background_size: ``M``, the number of background rows.
        seed: the seed used (``None`` when a ``generator`` was passed or no seed was given).
    """

    attributions: np.ndarray
    attributions_se: np.ndarray
    interactions: np.ndarray | None
    interactions_se: np.ndarray | None
    f_input: Any
    f_baseline: Any
    f_background: Any
    completeness_gap: Any
    completeness_se: Any
    quadrature_error: Any
    samples: int
    steps: float
    path_samples: str
    replace: bool
    exact: bool
    baseline_indices: np.ndarray
    model_evaluations: int
    path_points: int
    background_size: int
    seed: int | None = None
    meta: dict = field(default_factory=dict)

    @property
    def delta(self):
        """``f_input - f_background``: what the attributions add up to in expectation."""
        return self.f_input - self.f_background
