"""AOPC comprehensiveness and sufficiency (ERASER, DeYoung et al., 2020; as ferret implements them).

For attribution scores ``s`` (``(W,)``) over ``W`` features and removal fractions ``q`` (default ferret's
``0.1, 0.2, ..., 1.0``), the rationale ``r_q`` is the top ``k = floor(q W)`` features by score (descending; ties:
the earlier feature first); with ``only_positive=True`` (ferret's default) only those with ``s_i > 0`` are kept.
Fractions with ``k = 0`` are skipped, and a rationale equal to the previous one is not counted again (ferret).
With ``f`` the explained output and ``x \\ r`` the input with ``r``'s features removed:

    comprehensiveness(r) = f(x) - f(x \\ r)          (removing the rationale hurts: higher is better)
    sufficiency(r)       = f(x) - f(r only)         (the rationale alone keeps the output: lower is better)

and the AOPC values are their means over the distinct non-empty rationales, in output units. When no rationale is
left (e.g. no positive score), comprehensiveness is 0 and sufficiency ``f(x) - f(x')`` (the empty rationale).

Differences from ferret, stated: "removed" means set to the explanation's own baseline (the pad embedding by
default, special tokens kept), not deleted from the text, so the metric measures the function the explanation
explains (ferret's ``remove_tokens=False`` masks with [MASK] instead: our ``baseline="mask"``); features are words,
not tokens; the unit is the explained output (ferret: the class probability; pass ``output="probability"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._record import Record

#: ferret's default removal fractions: 10%, 20%, ..., 100% of the features
DEFAULT_FRACTIONS = tuple(round(0.1 * i, 1) for i in range(1, 11))


def check_fractions(fractions) -> tuple[float, ...]:
    values = tuple(float(q) for q in fractions)
    if not values:
        raise ValueError("fractions is empty: pass removal fractions in (0, 1], e.g. (0.1, 0.2, ..., 1.0)")
    bad = [q for q in values if not 0 < q <= 1]
    if bad:
        raise ValueError(f"fractions must be in (0, 1] (a share of the features); got {bad}")
    return values


def ranking(scores: np.ndarray) -> np.ndarray:
    """Feature indices by decreasing score; ties keep the earlier feature first."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def rationales(scores, fractions=DEFAULT_FRACTIONS, only_positive: bool = True) -> list[tuple[float, np.ndarray]]:
    """``[(q, features), ...]``: the distinct non-empty rationales of the removal fractions, in order (see the
    module docstring)."""
    scores = np.asarray(scores, dtype=np.float64)
    n = len(scores)
    order = ranking(scores)
    out, last = [], None
    for q in check_fractions(fractions):
        k = int(np.floor(q * n + 1e-9))  # 1e-9: 0.3 * 10 is 3, not 2.9999999999999996
        if k <= 0:
            continue
        top = order[:k]
        if only_positive:
            top = top[scores[top] > 0]
        if not len(top) or (last is not None and set(top.tolist()) == last):
            continue
        last = set(top.tolist())
        out.append((q, np.sort(top)))
    return out


def rationale_masks(n: int, chosen: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """``(2 R, n)`` coalitions: without each of the ``R`` rationales, then with only each of them."""
    kept = np.zeros((len(chosen), n), dtype=bool)
    for r, (_, features) in enumerate(chosen):
        kept[r, features] = True
    return np.concatenate([~kept, kept])


def aopc_from_values(chosen: list[tuple[float, np.ndarray]], values, f_input: float, f_empty: float) -> dict:
    """AOPC comprehensiveness and sufficiency (module docstring) from the game's ``values`` on
    :func:`rationale_masks` ``(n, chosen)``. Returns ``comprehensiveness``, ``sufficiency`` (floats), the
    ``fractions`` and ``sizes`` of the rationales counted, and the per-rationale ``comprehensiveness_values`` /
    ``sufficiency_values``."""
    if not chosen:
        return dict(
            comprehensiveness=0.0,
            sufficiency=float(f_input - f_empty),
            fractions=[],
            sizes=[],
            comprehensiveness_values=[],
            sufficiency_values=[],
        )
    values = np.asarray(values, dtype=np.float64)
    comp = f_input - values[: len(chosen)]
    suff = f_input - values[len(chosen) :]
    return dict(
        comprehensiveness=float(comp.mean()),
        sufficiency=float(suff.mean()),
        fractions=[q for q, _ in chosen],
        sizes=[len(r) for _, r in chosen],
        comprehensiveness_values=comp.tolist(),
        sufficiency_values=suff.tolist(),
    )


@dataclass
class AOPC(Record):
    """AOPC comprehensiveness and sufficiency of one attribution ranking (module docstring), in ``output`` units.

    Attributes:
        comprehensiveness: mean of ``f(x) - f(x \\ r)`` over the distinct non-empty rationales (higher is better).
        sufficiency: mean of ``f(x) - f(r only)`` (lower is better).
        fractions, sizes: each counted rationale's removal fraction and number of features.
        comprehensiveness_values, sufficiency_values: each counted rationale's term.
        only_positive: whether rationales kept only positively scored features (ferret's default).
    """

    comprehensiveness: float
    sufficiency: float
    fractions: list[float]
    sizes: list[int]
    comprehensiveness_values: list[float]
    sufficiency_values: list[float]
    only_positive: bool = True


def measure_aopc(game, scores, fractions=DEFAULT_FRACTIONS, only_positive: bool = True) -> AOPC:
    """:class:`AOPC` of attribution ``scores`` (``(W,)``) on ``game`` (``(M, W) bool -> (M,)``): one game call
    with the full and empty coalitions and ``2 R`` rationale coalitions."""
    scores = _scores(scores)
    n = len(scores)
    chosen = rationales(scores, fractions, only_positive)
    ends = np.array([np.ones(n, bool), np.zeros(n, bool)])
    values = game(np.concatenate([ends, rationale_masks(n, chosen)]))
    return AOPC(**aopc_from_values(chosen, values[2:], values[0], values[1]), only_positive=only_positive)


def _scores(scores) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or not len(scores):
        raise ValueError(f"attribution scores must have shape (W,) with W >= 1, got {scores.shape}")
    if not np.isfinite(scores).all():
        raise ValueError("attribution scores have NaN/inf entries: a ranking needs finite scores")
    return scores
