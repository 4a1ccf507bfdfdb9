"""Coalition fidelity: how well an explanation predicts the model on random coalitions of features.

For a coalition ``S`` (features in ``S`` at the input, the rest at the explanation's baseline) the model gives
``f(x_S)``. An explanation is a surrogate of that function:

    second order (Integrated Hessians):  g2(S) = f(x') + sum_{i, j in S} Gamma_ij
    additive (Integrated Gradients):     g1(S) = f(x') + sum_{i in S} phi_i

both exact at ``S = {}`` and at ``S = N`` (completeness: ``sum Gamma = sum phi = f(x) - f(x')``). Fidelity is the
coefficient of determination over ``M`` random coalitions (:func:`~._game.random_coalitions`):

    R^2 = 1 - sum_m (f(x_Sm) - g(Sm))^2 / sum_m (f(x_Sm) - mean f)^2

(1: the surrogate predicts every coalition; 0: no better than the mean; negative: worse). NaN when the model's
values do not vary over the coalitions. This is the fidelity shapiq and SPEX report for interaction indices (there
with ``g`` their index's sum over the subsets of ``S``; FSII is *defined* as the best such fit under the Shapley
kernel's weights). Integrated Hessians is not fitted to coalitions at all: it integrates along the straight path
from ``x'`` to ``x``, so its R^2 measures how far the model's behaviour off that path is second order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._game import random_coalitions
from ._record import Record


@dataclass
class CoalitionFidelity(Record):
    """Coalition fidelity (module docstring), values in output units.

    Attributes:
        coalitions: ``(M, W)`` bool, the random coalitions (``True`` = present).
        values: ``(M,)`` the model's ``f(x_S)``.
        second_order, additive: ``(M,)`` the two surrogates' predictions.
        r2_second_order, r2_additive: their R^2.
        seed, distribution: how the coalitions were drawn.
    """

    coalitions: np.ndarray
    values: np.ndarray
    second_order: np.ndarray
    additive: np.ndarray
    r2_second_order: float
    r2_additive: float
    seed: int | None = None
    distribution: str = "uniform"


def check_full_matrix(interactions, n: int) -> np.ndarray:
    """``interactions`` as a full finite ``(n, n)`` matrix; ``ValueError`` naming what is missing otherwise."""
    if interactions is None:
        raise ValueError(
            "this explanation has no interactions: coalition fidelity needs the (W, W) Integrated "
            "Hessians; explain with interactions=True"
        )
    matrix = np.asarray(interactions, dtype=np.float64)
    if matrix.shape != (n, n):
        raise ValueError(f"interactions has shape {matrix.shape}; coalition fidelity needs the full ({n}, {n}) matrix")
    missing = ~np.isfinite(matrix)
    if missing.any():
        rows = sorted(set(np.nonzero(missing)[0].tolist()))
        raise ValueError(
            f"the interaction matrix is partial: rows {rows[:10]}{' ...' if len(rows) > 10 else ''} have "
            f"missing (NaN/inf) entries, and the surrogate sum over a coalition needs every pair. Explain "
            f"with the full matrix (all rows), or use pair_ablation, which ranks the pairs present"
        )
    return matrix


def second_order_surrogate(coalitions, interactions, f_baseline: float) -> np.ndarray:
    """``f(x') + sum_{i, j in S} M_ij`` for each coalition row ``S``: ``(M,)``."""
    s = np.asarray(coalitions, dtype=np.float64)
    return f_baseline + np.einsum("mi,ij,mj->m", s, np.asarray(interactions, dtype=np.float64), s)


def additive_surrogate(coalitions, attributions, f_baseline: float) -> np.ndarray:
    """``f(x') + sum_{i in S} phi_i`` for each coalition row ``S``: ``(M,)``."""
    return f_baseline + np.asarray(coalitions, dtype=np.float64) @ np.asarray(attributions, dtype=np.float64)


def r_squared(values, predictions) -> float:
    """``1 - SS_res / SS_tot`` of ``predictions`` for ``values``; NaN when ``values`` are constant."""
    values, predictions = np.asarray(values, dtype=np.float64), np.asarray(predictions, dtype=np.float64)
    total = ((values - values.mean()) ** 2).sum()
    if not total > 0:
        return float("nan")
    return float(1.0 - ((values - predictions) ** 2).sum() / total)


def coalition_array(coalitions, n: int, seed: int | None = 0, distribution: str = "uniform"):
    """``(masks, seed, distribution)``: ``coalitions`` random coalitions of ``n`` features, or an ``(M, n)`` array of
    your own (then ``seed`` is ``None`` and ``distribution`` ``"given"``); ``ValueError`` for zero or a bad shape."""
    if isinstance(coalitions, (int, np.integer)) and not isinstance(coalitions, bool):
        return random_coalitions(n, int(coalitions), seed, distribution), seed, distribution
    masks = np.asarray(coalitions)
    if masks.ndim != 2 or masks.shape[1] != n or not len(masks):
        raise ValueError(
            f"coalitions must be a positive number or an (M, {n}) boolean array with M >= 1; got "
            f"{coalitions if masks.ndim == 0 else f'shape {masks.shape}'}"
        )
    if masks.dtype != bool and not np.isin(masks, (0, 1)).all():
        raise ValueError("coalitions must be boolean (or 0/1): True where a feature is present")
    return masks.astype(bool), None, "given"


def measure_fidelity(
    game,
    interactions,
    attributions,
    f_baseline: float,
    coalitions=200,
    seed: int | None = 0,
    distribution: str = "uniform",
) -> CoalitionFidelity:
    """:class:`CoalitionFidelity` of a second-order explanation (``interactions``, ``(W, W)``) and an additive one
    (``attributions``, ``(W,)``; ``None``: the matrix's row sums) with baseline value ``f_baseline`` on ``game``.
    ``coalitions``: a number of random coalitions (drawn with ``seed`` and ``distribution``), or an ``(M, W)``
    boolean array of your own. One game call."""
    matrix = np.asarray(interactions, dtype=np.float64)
    n = matrix.shape[0]
    matrix = check_full_matrix(matrix, n)
    phi = matrix.sum(axis=1) if attributions is None else np.asarray(attributions, dtype=np.float64)
    if phi.shape != (n,):
        raise ValueError(f"attributions has shape {phi.shape}, expected ({n},)")
    masks, seed, distribution = coalition_array(coalitions, n, seed, distribution)
    values = np.asarray(game(masks), dtype=np.float64)
    second = second_order_surrogate(masks, matrix, f_baseline)
    additive = additive_surrogate(masks, phi, f_baseline)
    return CoalitionFidelity(
        coalitions=masks,
        values=values,
        second_order=second,
        additive=additive,
        r2_second_order=r_squared(values, second),
        r2_additive=r_squared(values, additive),
        seed=seed,
        distribution=distribution,
    )
