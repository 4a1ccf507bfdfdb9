"""Result objects of the engine (plain data; numpy float64 arrays)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .adaptive import AdaptiveInfo
from .quadrature import PathRule


@dataclass
class AttributionResult:
    """Integrated Gradients of a scalar function.

    Attributions:
        attributions: ``(G,)`` per group (or ``x.shape`` when ``groups=None``), in units of ``f``.
        f_input, f_baseline: ``f(x)`` and ``f(x')``.
        completeness_error: ``|sum(attributions) - (f_input - f_baseline)|``.
        rule: the path rule used (``len(rule)`` path points).
        adaptive: what the adaptive rule did, or ``None`` for a fixed rule.
    """

    attributions: np.ndarray
    f_input: float
    f_baseline: float
    completeness_error: float
    rule: PathRule
    adaptive: AdaptiveInfo | None = None

    @property
    def steps(self) -> int:
        return len(self.rule)


@dataclass
class InteractionResult(AttributionResult):
    """Integrated Hessians of a scalar function.

    ``interactions`` is ``(G, G)``, symmetric; its rows sum to ``attributions`` (self-completeness), and
    ``completeness_error = |sum(interactions) - (f_input - f_baseline)|``. ``meta["raw_asymmetry"]`` is
    ``max |Gamma - Gamma^T| / max |Gamma|`` of the matrix before it was symmetrised (a check that can fail: the
    integrated Hessians of a correct double backward are symmetric to float noise).

    Selected rows (``integrated_hessians_reduced(..., rows=...)``): ``interactions`` holds the exact rows of the
    selected groups and, by symmetry, their columns; every other entry is ``NaN`` (never 0), and ``computed`` is
    the boolean ``(G, G)`` mask of the entries that were computed (``None`` for a full matrix). ``attributions``
    are then exact for every group (from the same path points, through ``phi = int (-ln t) [t H 1 + grad] dt``),
    each computed row sums to its attribution, and ``raw_asymmetry`` is taken over the selected block.
    """

    interactions: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    computed: np.ndarray | None = None
