"""Exact selected rows of the interaction matrix (``rows=``): which features' rows to compute.

A full ``W x W`` matrix costs ``W`` Hessian-vector products per path point; the rows of ``k`` features cost
``k + 1`` (one more for the path direction, which gives every feature's attribution exactly). Rows are exact and
full (a selected feature's interaction with every feature, and by symmetry the matching columns); entries of two
unselected features are ``NaN`` and ``Explanation.computed`` is ``False`` there: never a silent 0.

``rows`` may be ``None`` (the full matrix), a list of features (positions, or feature texts that occur once), or an
integer ``k``: the ``k`` features with the largest ``|attribution|``. That screen is the explanation's own
Integrated Gradients, computed first at the explainer's path rule (one gradient per path point, cheap next to the
rows). How well it ranks is measured by ``benchmarks/bench_long_document.py`` against the exact matrix, next to
the random sketch ``Gamma Z`` (``p`` more products per path point) and the oracle (the rows of largest norm): see
BENCHMARKS.md, "Long documents". Pairs of two weak features whose interactions with different words cancel in
their attributions are the ones it misses.
"""

from __future__ import annotations

import numpy as np

SCREEN = "|attribution| (Integrated Gradients at the same path rule)"


def is_screen(rows) -> bool:
    """Whether ``rows`` asks for the ``k`` strongest features (an integer)."""
    return isinstance(rows, (int, np.integer)) and not isinstance(rows, bool)


def check_rows(rows) -> None:
    """``ValueError`` / ``TypeError`` for a ``rows`` setting that is none of ``None``, ``k >= 1``, or a non-empty
    list of feature positions (ints >= 0) and texts."""
    if rows is None:
        return
    if isinstance(rows, bool):
        raise TypeError("rows must be None (full matrix), a number k of features, or a list of features; got a bool")
    if is_screen(rows):
        if rows < 1:
            raise ValueError(f"rows={rows}: pass k >= 1 (the k features whose rows are computed), or None for all")
        return
    if isinstance(rows, str) or not hasattr(rows, "__iter__"):
        raise TypeError(f"rows must be None, a number k, or a list of feature positions / texts; got {rows!r}")
    items = list(rows)
    if not items:
        raise ValueError("rows is an empty list: pass None for the full matrix, a number k, or some features")
    for item in items:  # positions in range and texts among the features are checked once the text is encoded
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (str, int, np.integer)):
            raise TypeError(f"rows: {item!r} is neither a feature position nor a feature text")
        if not isinstance(item, str) and item < 0:
            raise ValueError(f"rows: feature position {item} is negative: positions count from 0")


def select_rows(rows, words: list[str], attributions: np.ndarray | None) -> list[int]:
    """The sorted feature positions whose rows are computed, for features ``words`` (``attributions``: the screen,
    needed when ``rows`` is a number)."""
    if is_screen(rows):
        k = min(int(rows), len(words))
        order = np.argsort(-np.abs(np.asarray(attributions)), kind="stable")[:k]
        return sorted(int(i) for i in order)
    out = set()
    for item in rows:
        if isinstance(item, str):
            hits = [i for i, w in enumerate(words) if w == item]
            if len(hits) != 1:
                where = f"occurs {len(hits)} times (positions {hits})" if hits else "is not one of the features"
                raise ValueError(f"rows: {item!r} {where}; pass its position in {words}")
            out.add(hits[0])
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            if not 0 <= int(item) < len(words):
                raise ValueError(f"rows: feature position {item} is out of range: there are {len(words)} features")
            out.add(int(item))
        else:
            raise TypeError(f"rows: {item!r} is neither a feature position nor a feature text")
    if not out:
        raise ValueError("rows is an empty list: pass None for the full matrix, a number k, or some features")
    return sorted(out)
