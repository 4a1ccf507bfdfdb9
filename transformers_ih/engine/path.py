"""The path settings of an IG / IH call (:class:`PathSettings`) and the choice of its path rule (shared by both)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .adaptive import AdaptiveInfo, adaptive_rules
from .quadrature import PathRule, fixed_rule

FIXED_METHODS = ("gauss", "riemann", "montecarlo")


@dataclass(frozen=True)
class PathSettings:
    """How the straight path from the baseline to the input is integrated: one record for every engine function.

    Attributes:
        steps: ``None`` (default): the adaptive rule, Gauss panels refined until the completeness error
            ``|sum(attributions) - (f(x) - f(x'))|`` is at most ``max(rtol * |f(x) - f(x')|, atol)`` (see
            :mod:`.adaptive` for the path-variation floor), with at most ``max_nodes`` path points. ``N``: a fixed
            rule of ``N`` path points (a positive integer) of ``method``.
        method: the fixed rule: ``"gauss"`` (default when ``steps`` is given: Gauss-Legendre for IG, Gauss for the
            weight ``-ln t`` for IH), ``"riemann"`` (midpoints) or ``"montecarlo"`` (random positions, from
            ``seed``); ``None`` or ``"adaptive"`` with ``steps=None``: the adaptive rule.
        rtol: the adaptive rule's tolerance relative to ``|f(x) - f(x')|`` (a fraction, e.g. ``1e-3``).
        atol: the adaptive rule's absolute tolerance, in the units of ``f``'s output.
        max_nodes: the adaptive rule's cap on path points (a :class:`~.adaptive.NodeCapWarning` when it stops
            there before the tolerance).
        panel_nodes: the adaptive rule's Gauss nodes per panel.
        seed: the random positions of ``method="montecarlo"`` (``None``: fresh ones).

    The Expected Gradients / Hessians estimator reads ``steps`` as path points per baseline of its
    ``path_samples`` (``None``: that scheme's default) and ``rtol``, ``atol``, ``max_nodes``, ``panel_nodes`` for
    ``path_samples="adaptive"``; it ignores ``method`` and ``seed`` (its sampling has its own seed).

    Raises ``ValueError`` at construction for ``steps < 1``, an unknown ``method``, ``steps`` with
    ``method="adaptive"`` and a fixed ``method`` without ``steps``.
    """

    steps: int | None = None
    method: str | None = None
    rtol: float = 1e-3
    atol: float = 1e-4
    max_nodes: int = 512
    panel_nodes: int = 6
    seed: int | None = 0

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps}")
        if self.method not in (None, "adaptive", *FIXED_METHODS):
            raise ValueError(f"unknown method {self.method!r}; expected 'gauss', 'riemann' or 'montecarlo'")
        if self.method == "adaptive" and self.steps is not None:
            raise ValueError("steps selects a fixed rule; do not combine it with method='adaptive'")
        if self.method in FIXED_METHODS and self.steps is None:
            raise ValueError(f"method={self.method!r} is a fixed rule and needs steps=N")

    @property
    def adaptive(self) -> bool:
        """Whether the rule is adaptive (``steps=None``)."""
        return self.steps is None

    def adaptive_options(self) -> dict:
        """The keyword arguments of :func:`~.adaptive.adaptive_rules` these settings fix."""
        return dict(rtol=self.rtol, atol=self.atol, max_nodes=self.max_nodes, panel_nodes=self.panel_nodes)


def choose_rules(
    reduced, measure: str, path: PathSettings, *, path_fn=None, node_costs=None
) -> Sequence[tuple[PathRule, AdaptiveInfo | None]]:
    """One rule per problem of ``reduced`` (a :class:`~.reduction.ReducedFunction`), for the path ``measure``
    (``"uniform"`` for IG, ``"log"`` for IH). The adaptive rules (``path.steps=None``) refine in lockstep, sharing
    model calls; a fixed rule is the same for every problem. ``path_fn(ts, order, problems)``: the scalar
    derivatives along the path (default ``reduced.path_derivatives``). ``node_costs``: cost of one final node per
    problem, in scalar evaluations (lets the adaptive rule trade scalar evaluations for fewer final nodes)."""
    if path.steps is None:  # path.adaptive
        return adaptive_rules(
            path_fn or reduced.path_derivatives,
            reduced.num_problems,
            measure,
            node_costs=node_costs,
            eps=float(torch.finfo(reduced.dtype).eps),
            **path.adaptive_options(),
        )
    rule = fixed_rule(measure, int(path.steps), path.method or "gauss", seed=path.seed)
    return [(rule, None)] * reduced.num_problems
