"""Pair ablation: do the strongest interactions predict what removing both words does?

For features ``i`` and ``j`` of the input ``N`` (all features present), the discrete interaction of the pair at the
input is the second-order finite difference of the model under removal (to the explanation's baseline):

    Delta_ij = f(N) - f(N \\ {i}) - f(N \\ {j}) + f(N \\ {i, j})

which is zero when ``i`` and ``j`` act additively. A second-order explanation ``M`` (Integrated Hessians:
``M = Gamma``, symmetric) predicts the pair's total interaction ``M_ij + M_ji = 2 Gamma_ij``. For the ``k`` pairs
with the largest ``|M_ij|`` (``i < j``) this reports both, their Pearson correlation and the share of pairs whose
signs agree. The two need not be equal: ``2 Gamma_ij`` averages the pair's interaction along the path from the
baseline, ``Delta_ij`` measures it once, at the input; for a function with only pairwise terms (e.g.
``x0 x1 + x2`` on 0/1 features) they coincide. Cost: ``1 + |{i, j}| + k`` coalitions (distinct ones).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._game import without
from ._record import Record


@dataclass
class PairAblation(Record):
    """Pair ablation of the ``k`` strongest pairs (module docstring), in output units.

    Attributes:
        pairs: ``(i, j)``, ``i < j``, strongest ``|M_ij|`` first.
        words: each pair's words.
        predicted: ``2 M_ij``, the explanation's total interaction of each pair.
        ablation: ``Delta_ij``, the model's discrete interaction at the input.
        correlation: Pearson correlation of ``predicted`` and ``ablation`` (NaN for fewer than 2 pairs or a
            constant side).
        sign_agreement: share of pairs with ``sign(predicted) == sign(ablation)``.
    """

    pairs: list[tuple[int, int]]
    words: list[tuple[str, str]]
    predicted: list[float]
    ablation: list[float]
    correlation: float
    sign_agreement: float

    @property
    def k(self) -> int:
        return len(self.pairs)


def strongest_pairs(interactions, k: int) -> list[tuple[int, int]]:
    """The ``k`` pairs ``i < j`` with the largest finite ``|interactions[i, j]|`` (ties: the earlier pair first);
    ``ValueError`` when ``k`` is not in ``1..(available pairs)``."""
    matrix = np.asarray(interactions, dtype=np.float64)
    n = matrix.shape[0]
    iu, ju = np.triu_indices(n, k=1)
    values = matrix[iu, ju]
    finite = np.isfinite(values)
    available = int(finite.sum())
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive number of pairs, got {k!r}")
    if k > available:
        total = n * (n - 1) // 2
        what = f"{n} words have {total} pairs" + (
            f", {available} of them with finite interactions" if available < total else ""
        )
        raise ValueError(f"k={k} is larger than the number of pairs: {what}; pass k <= {available}")
    key = np.where(finite, -np.abs(np.where(finite, values, 0.0)), np.inf)  # missing (NaN) pairs last
    order = np.argsort(key, kind="stable")[:k]
    return [(int(iu[o]), int(ju[o])) for o in order]


def pair_masks(n: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    """``(4 k, n)`` coalitions: for each pair the input, without ``i``, without ``j``, without both."""
    rows = []
    for i, j in pairs:
        rows += [np.ones(n, bool), without(n, [i]), without(n, [j]), without(n, [i, j])]
    return np.array(rows, dtype=bool).reshape(-1, n)


def correlation(a, b) -> float:
    """Pearson correlation; NaN for fewer than two values or a constant side."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) < 2:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    denom = np.sqrt((da * da).sum() * (db * db).sum())
    return float((da * db).sum() / denom) if denom > 0 else float("nan")


def measure_pairs(game, interactions, k: int = 10, words=None) -> PairAblation:
    """:class:`PairAblation` of the second-order explanation ``interactions`` (``(W, W)``; a pair's total is
    ``M_ij + M_ji``) on ``game``, for its ``k`` strongest pairs: one game call."""
    matrix = np.asarray(interactions, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"interactions must be a square (W, W) matrix, got shape {matrix.shape}")
    n = matrix.shape[0]
    pairs = strongest_pairs(matrix, k)
    values = np.asarray(game(pair_masks(n, pairs)), dtype=np.float64).reshape(len(pairs), 4)
    ablation = values[:, 0] - values[:, 1] - values[:, 2] + values[:, 3]
    predicted = np.array([matrix[i, j] + matrix[j, i] for i, j in pairs])
    words = list(words) if words is not None else [str(i) for i in range(n)]
    return PairAblation(
        pairs=pairs,
        words=[(words[i], words[j]) for i, j in pairs],
        predicted=predicted.tolist(),
        ablation=ablation.tolist(),
        correlation=correlation(predicted, ablation),
        sign_agreement=float(np.mean(np.sign(predicted) == np.sign(ablation))),
    )
