"""Two corpora's pair means side by side: :meth:`~transformers_ih.corpus.CorpusInteractions.compare` returns a
:class:`CorpusComparison` of :class:`ComparedPair` rows (means in the explained output's units)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..results.validation import check_optional_count

__all__ = ["ComparedPair", "CorpusComparison"]


@dataclass(frozen=True)
class ComparedPair:
    a: str
    b: str
    count_first: int
    count_second: int
    mean_first: float
    mean_second: float
    difference: float


@dataclass
class CorpusComparison:
    """Two corpora's pair means side by side (:meth:`CorpusInteractions.compare`)."""

    first: str
    second: str
    pairs: list[ComparedPair]
    shared_texts: int = 0
    same_texts: bool = False

    def top(self, k: int | None = 10, *, by: str = "difference") -> list[ComparedPair]:
        """Pairs by ``|difference|`` (``by="difference"``), or by ``|mean|`` in the first or second corpus
        (``"first"``, ``"second"``)."""
        keys = {
            "difference": lambda p: abs(p.difference),
            "first": lambda p: abs(p.mean_first),
            "second": lambda p: abs(p.mean_second),
        }
        k = check_optional_count(k, "k")
        if by not in keys:
            raise ValueError(f"by must be one of {list(keys)}, got {by!r}")
        ranked = sorted(self.pairs, key=lambda p: (-keys[by](p), p.a, p.b))
        return ranked if k is None else ranked[:k]

    def correlation(self) -> float:
        """Pearson correlation of the two corpora's pair means (NaN for fewer than two pairs)."""
        if len(self.pairs) < 2:
            return float("nan")
        x = np.array([p.mean_first for p in self.pairs])
        y = np.array([p.mean_second for p in self.pairs])
        if x.std() == 0 or y.std() == 0:
            return float("nan")
        return float(np.corrcoef(x, y)[0, 1])

    def plot(self, k: int = 12, **kwargs: Any):
        """Plotly scatter of the pair means (first vs second), the ``k`` largest differences labelled."""
        from ..visualize.corpus import plot_corpus_compare

        return plot_corpus_compare(self, k=k, **kwargs)
