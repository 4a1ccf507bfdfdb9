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
    """

    interactions: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
