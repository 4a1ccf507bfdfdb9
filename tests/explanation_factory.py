"""Hand-made, internally consistent :class:`Explanation` objects for the view tests (no model involved)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from transformers_ih.results.explanation import Explanation

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
        text=text,
        words=list(words),
        offsets=offsets,
        tokens=["[CLS]", *words, "[SEP]"],
        attributions=attr,
        interactions=interactions,
        target="POSITIVE",
        target_index=1,
        predicted_label="POSITIVE",
        predicted_probability=0.9731,
        f_input=f_baseline + float(attr.sum()),
        f_baseline=f_baseline,
        completeness_error=3.2e-6,
        steps=64,
        smoothing="softplus(beta=20)",
        model_value=1.5,
        word_groups=word_groups,
        separator=separator,
    )
    values.update(fields)
    return Explanation(**values)


VOCABULARY = (
    "the film is not bad at all and its story never drags while the lead actor brings real warmth to a role that "
    "could have been thin but the ending feels rushed and some jokes fall flat yet the music carries every scene "
    "with grace so I would watch it again"
).split()


def long_words(n_words: int) -> list[str]:
    """``n_words`` words of a review-like text (the vocabulary cycled, a "." ending every 12th word)."""
    return ["." if (k + 1) % 12 == 0 else VOCABULARY[k % len(VOCABULARY)] for k in range(n_words)]


def partial_rows(explanation: Explanation, rows: int | list[int]) -> list[int]:
    """The rows a partial matrix keeps: the ``rows`` largest ``|attribution|`` (an int), or the positions given."""
    if isinstance(rows, int):
        return sorted(int(i) for i in np.argsort(-np.abs(explanation.attributions), kind="stable")[:rows])
    return sorted(int(i) for i in rows)


def make_partial(explanation: Explanation, rows: int | list[int], *, mask: bool = True) -> Explanation:
    """A copy of ``explanation`` with only the interaction rows ``rows`` (see :func:`partial_rows`) and their columns
    known, as ``rows=`` explains: NaN elsewhere, and (``mask=True``) the boolean ``computed`` mask (the explainers'
    partial matrices carry one; ``mask=False`` leaves only the NaN, as objects without the mask would)."""
    keep = partial_rows(explanation, rows)
    n = len(explanation.words)
    known = np.zeros((n, n), dtype=bool)
    known[keep, :] = True
    known[:, keep] = True
    interactions = np.where(known, explanation.interactions, np.nan)
    meta = {**explanation.meta, "rows": keep}
    if mask and "computed" in {f.name for f in dataclasses.fields(Explanation)}:
        return dataclasses.replace(explanation, interactions=interactions, computed=known, meta=meta)  # checked
    partial = dataclasses.replace(explanation, interactions=interactions, meta=meta)
    if mask:
        partial.computed = known
    return partial


def make_long_explanation(
    n_words: int, rows: int | list[int] | None = None, *, seed: int = 0, mask: bool = True, **kwargs: Any
) -> Explanation:
    """A consistent explanation of ``n_words`` review-like words (:func:`long_words`); ``rows``: make it partial
    (:func:`make_partial`), else the full matrix. ``kwargs`` go to :func:`make_explanation`."""
    explanation = make_explanation(long_words(n_words), seed=seed, **kwargs)
    return explanation if rows is None else make_partial(explanation, rows, mask=mask)


def make_sentence_explanation(
    n_sentences: int, words_per_sentence: int = 10, *, seed: int = 0, **kwargs: Any
) -> Explanation:
    """Sentence-level features: ``n_sentences`` sentences of ``words_per_sentence`` words each (so the text has
    ``n_sentences * words_per_sentence`` words), each sentence one feature spanning its text; ``level="sentence"``
    when :class:`Explanation` has that field."""
    words = long_words(n_sentences * words_per_sentence)
    sentences = [
        " ".join(words[k : k + words_per_sentence]).capitalize() + "." for k in range(0, len(words), words_per_sentence)
    ]
    if "level" in {f.name for f in dataclasses.fields(Explanation)}:
        kwargs.setdefault("level", "sentence")
    return make_explanation(sentences, seed=seed, **kwargs)
