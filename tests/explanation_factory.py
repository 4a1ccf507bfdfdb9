"""Hand-made, internally consistent :class:`Explanation` objects for the view tests (no model involved)."""

from __future__ import annotations

from typing import Any

import numpy as np

from transformers_ih.explanation import Explanation

XSS_WORDS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '" onmouseover="window.__xss=1',
    "' onfocus='window.__xss=1",
    "&amp;<b>bold</b>",
    "%{x}",
]
"""Words that would execute script, inject attributes or markup, or read as plotly templates if unescaped."""


def consistent_interactions(attributions: np.ndarray, seed: int = 0, scale: float = 0.3) -> np.ndarray:
    """``(W, W)`` symmetric matrix whose rows sum to ``attributions``: random symmetric off-diagonal values
    (``scale`` standard deviation), and the diagonal (main effects) set to what each row still needs."""
    n = len(attributions)
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(0.0, scale, size=(n, n)), k=1)
    matrix = upper + upper.T
    np.fill_diagonal(matrix, attributions - matrix.sum(axis=1))
    return matrix


def make_explanation(
    words: list[str],
    attributions: list[float] | np.ndarray | None = None,
    *,
    seed: int = 0,
    separator: str = " ",
    with_interactions: bool = True,
    word_groups: list[int] | None = None,
    **fields: Any,
) -> Explanation:
    """An :class:`Explanation` of ``separator.join(words)`` with offsets matching ``words``; random
    attributions unless given, and :func:`consistent_interactions`. ``fields`` override any other field
    (``target``, ``predicted_label``, ``smoothing``, ...)."""
    text = separator.join(words)
    offsets, cursor = [], 0
    for w in words:
        start = text.index(w, cursor)
        offsets.append((start, start + len(w)))
        cursor = start + len(w)
    rng = np.random.default_rng(seed + 1)
    attr = np.asarray(attributions if attributions is not None else rng.normal(0.0, 1.0, len(words)), dtype=float)
    interactions = consistent_interactions(attr, seed) if with_interactions else None
    f_baseline = 0.25
    values: dict[str, Any] = dict(
        text=text, words=list(words), offsets=offsets, tokens=["[CLS]", *words, "[SEP]"], attributions=attr,
        interactions=interactions, target="POSITIVE", target_index=1, predicted_label="POSITIVE",
        predicted_probability=0.9731, f_input=f_baseline + float(attr.sum()), f_baseline=f_baseline,
        completeness_error=3.2e-6, steps=64, smoothing="softplus(beta=20)", model_value=1.5,
        word_groups=word_groups, separator=separator,
    )
    values.update(fields)
    return Explanation(**values)
