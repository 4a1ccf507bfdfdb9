"""Deletion and insertion curves (Petsiuk et al., 2018, RISE; as interpreto and Quantus use them for text).

Features are ranked by attribution (descending, signed: the most output-raising first; ties: the earlier feature
first). With ``W`` features:

    deletion[k]  = f(x with its top-k features removed)        k = 0..W  (from f(x) down to f(x'))
    insertion[k] = f(x' with only its top-k features present)  k = 0..W  (from f(x') up to f(x))

"Removed" = set to the explanation's own baseline. The areas under the curves are trapezoids over the fraction
``k / W`` in ``[0, 1]``, in output units: a faithful ranking gives a low deletion area (the output falls fast) and
a high insertion area (it rises fast). Cost: ``2 (W + 1)`` coalitions, ``2 W`` distinct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._record import Record
from .aopc import _scores, ranking


def curve_masks(scores) -> tuple[np.ndarray, np.ndarray]:
    """``(deletion, insertion)`` coalitions, ``(W + 1, W)`` each: row ``k`` without / with only the top ``k``."""
    order = ranking(scores)
    n = len(order)
    top = np.zeros((n + 1, n), dtype=bool)
    for k in range(1, n + 1):
        top[k] = top[k - 1]
        top[k, order[k - 1]] = True
    return ~top, top


def area(curve) -> float:
    """Trapezoid area of ``curve`` (``W + 1`` values at ``k / W``) over ``[0, 1]``."""
    curve = np.asarray(curve, dtype=np.float64)
    n = len(curve) - 1
    if n < 1:
        return float(curve[0]) if len(curve) else float("nan")
    return float((curve.sum() - 0.5 * (curve[0] + curve[-1])) / n)


def curves_from_values(values) -> dict:
    """``deletion`` / ``insertion`` curves (lists of ``W + 1`` values) and their areas ``deletion_auc`` /
    ``insertion_auc`` from the game's ``values`` on the ``2 (W + 1)`` coalitions of :func:`curve_masks` (deletion's
    first)."""
    values = np.asarray(values, dtype=np.float64)
    half = len(values) // 2
    deletion, insertion = values[:half], values[half:]
    return dict(
        deletion=deletion.tolist(),
        insertion=insertion.tolist(),
        deletion_auc=area(deletion),
        insertion_auc=area(insertion),
    )


@dataclass
class RemovalCurves(Record):
    """Deletion and insertion curves of one attribution ranking (module docstring), in output units.

    Attributes:
        order: the features by decreasing attribution (the order of removal / insertion).
        deletion, insertion: ``W + 1`` values each, at ``k = 0..W`` features removed / inserted.
        deletion_auc, insertion_auc: their areas over the fraction ``k / W`` (lower / higher is better).
    """

    order: list[int]
    deletion: list[float]
    insertion: list[float]
    deletion_auc: float
    insertion_auc: float


def measure_curves(game, scores) -> RemovalCurves:
    """:class:`RemovalCurves` of attribution ``scores`` (``(W,)``) on ``game``: one game call."""
    scores = _scores(scores)
    deletion_masks, insertion_masks = curve_masks(scores)
    values = game(np.concatenate([deletion_masks, insertion_masks]))
    return RemovalCurves(order=ranking(scores).tolist(), **curves_from_values(values))
