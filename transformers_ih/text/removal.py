"""The removal check stored with every explanation that has interactions: ``explanation.removal_check``.

An Integrated Hessians cell is a decomposition of ``f(x) - f(x')`` along the straight path from the baseline to the
input; a user reading it often asks another question: what happens when words are *removed* (set to the
explanation's own baseline ``x'``)? The check answers it beside each explanation, from the same game as
:meth:`~transformers_ih.tasks.base.TextInteractionExplainer.coalition_values` (``v(S) = f(x_S)``, absent features at
the baseline, special tokens kept):

* ``leave_one_out[i] = v(N) - v(N \\ i)`` for every feature ``i``, beside its attribution;
* for the ``k`` strongest computed pairs (by ``|interactions[i, j]|``) the removal interaction
  ``Delta_ij = v(N) - v(N \\ i) - v(N \\ j) + v(N \\ {i, j})`` beside the explanation's pair value
  ``interactions[i, j] + interactions[j, i]`` (``2 * Gamma_ij``);
* their Pearson correlation and the fraction of pairs whose signs agree.

It costs ``1 + W + k`` coalitions (times ``K`` for ``baseline="expected"``), evaluated in batches of the explainer's
``internal_batch_size``, without gradients; attributions and interactions are not touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..results.explanation import Explanation
from .replay import request_values
from .requests import Request
from .run import ExplainRun

#: pairs checked when ``check=True``
DEFAULT_PAIRS = 10


def check_pairs(check: Any) -> int | None:
    """The number of pairs ``check=`` asks for: ``None`` for no check (``False``), ``DEFAULT_PAIRS`` for ``True``,
    or a non-negative int. ``ValueError`` naming the argument otherwise."""
    if check is False:
        return None
    if check is True:
        return DEFAULT_PAIRS
    if isinstance(check, (int, np.integer)) and not isinstance(check, bool) and check >= 0:
        return int(check)
    raise ValueError(
        f"check must be True (the removal check with {DEFAULT_PAIRS} pairs), False (no check) or a number of "
        f"pairs >= 0; got {check!r}"
    )


def removal_masks(W: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    """The check's coalitions ``(1 + W + k, W)`` bool: all features; each one removed; each pair removed."""
    masks = np.ones((1 + W + len(pairs), W), dtype=bool)
    masks[1 + np.arange(W), np.arange(W)] = False
    for row, (i, j) in enumerate(pairs, start=1 + W):
        masks[row, [i, j]] = False
    return masks


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation, ``None`` for fewer than 2 values or a constant side."""
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def summarize(explanation: Explanation, values: np.ndarray, pairs: list[tuple[int, int]]) -> dict[str, Any]:
    """The check's record from the values of :func:`removal_masks` (``(1 + W + k,)``, output units): JSON values.

    Keys: ``leave_one_out`` (``W`` floats), ``pairs`` (records ``{"i", "j", "interaction", "removal"}``: the
    explanation's pair value ``interactions[i, j] + interactions[j, i]`` and ``Delta_ij``), ``correlation`` (pairs'
    interaction vs removal, ``None`` under 2 pairs), ``sign_agreement`` (fraction of pairs with equal signs, ``None``
    without pairs), ``attribution_correlation`` (attributions vs leave-one-out), ``input_value`` (``v(N)``) and
    ``coalitions`` (``1 + W + k``)."""
    W = len(explanation.words)
    v_all, v_without = float(values[0]), values[1 : 1 + W]
    leave_one_out = v_all - v_without
    gamma = explanation.interactions
    assert gamma is not None
    records = []
    for row, (i, j) in enumerate(pairs, start=1 + W):
        removal = v_all - v_without[i] - v_without[j] + float(values[row])
        records.append({"i": i, "j": j, "interaction": float(gamma[i, j] + gamma[j, i]), "removal": float(removal)})
    inter = np.array([r["interaction"] for r in records])
    removal = np.array([r["removal"] for r in records])
    return {
        "leave_one_out": leave_one_out.tolist(),
        "pairs": records,
        "correlation": _correlation(inter, removal),
        "sign_agreement": float(np.mean(np.sign(inter) == np.sign(removal))) if records else None,
        "attribution_correlation": _correlation(explanation.attributions, leave_one_out),
        "input_value": v_all,
        "coalitions": len(values),
    }


def removal_check(run: ExplainRun, request: Request, explanation: Explanation, k: int) -> dict[str, Any]:
    """The removal check of ``explanation`` (made from ``request`` in ``run``): see the module docstring."""
    pairs = [(i, j) for i, j, _ in explanation.top_interaction_indices(k)] if k else []
    masks = removal_masks(len(explanation.words), pairs)
    values = request_values(run, request, masks, run.settings.background)
    return summarize(explanation, values, pairs)


def attach_removal_checks(run: ExplainRun, requests: list[Request], explanations: list[Explanation], k: int) -> None:
    """Set ``removal_check`` on every explanation with interactions (in place)."""
    for request, explanation in zip(requests, explanations):
        if explanation.interactions is not None:
            explanation.removal_check = removal_check(run, request, explanation, k)
