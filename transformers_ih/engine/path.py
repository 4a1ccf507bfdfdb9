"""Choosing the path rule for an IG / IH call (shared by both)."""

from __future__ import annotations

import torch

from .adaptive import AdaptiveInfo, adaptive_rules
from .quadrature import PathRule, fixed_rule
from .reduction import ReducedFunction


def choose_rules(
    reduced: ReducedFunction,
    measure: str,
    *,
    steps: int | None,
    method: str | None,
    rtol: float,
    atol: float,
    max_nodes: int,
    panel_nodes: int,
    seed: int | None,
    path_fn=None,
    node_costs=None,
) -> list[tuple[PathRule, AdaptiveInfo | None]]:
    """One rule per problem of ``reduced``. ``steps=None`` (default) -> the adaptive rule (problems refine in
    lockstep, sharing model calls); ``steps=N`` -> a fixed rule of ``method`` (``"gauss"`` default,
    ``"riemann"``, ``"montecarlo"``). ``path_fn(ts, order, problems)``: the scalar derivatives along the path
    (default ``reduced.path_derivatives``). ``node_costs``: cost of one final node per problem, in scalar
    evaluations (lets the adaptive rule trade scalar evaluations for fewer final nodes)."""
    if method == "adaptive" or (method is None and steps is None):
        if steps is not None:
            raise ValueError("steps selects a fixed rule; do not combine it with method='adaptive'")
        return adaptive_rules(path_fn or reduced.path_derivatives, reduced.num_problems, measure, rtol=rtol, atol=atol,
                              max_nodes=max_nodes, panel_nodes=panel_nodes, node_costs=node_costs,
                              eps=float(torch.finfo(reduced.dtype).eps))
    if steps is None:
        raise ValueError(f"method={method!r} is a fixed rule and needs steps=N")
    rule = fixed_rule(measure, int(steps), method or "gauss", seed=seed)
    return [(rule, None)] * reduced.num_problems
