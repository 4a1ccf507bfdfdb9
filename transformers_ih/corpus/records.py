"""The records of :class:`~transformers_ih.corpus.CorpusInteractions`: what it stores per word type and per pair
(:class:`WordTotals`, :class:`PairTotals`: running sums, written to JSON as plain lists in field order) and what it
answers with (:class:`WordStats`, :class:`PairStats`: means and spreads computed from those sums when asked, so the
stored sums are all a JSON file needs; :class:`PairExample`: one occurrence with its text). Values are in the
explained output's units unless said otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["PairStats", "WordStats", "PairExample", "WordTotals", "PairTotals"]


@dataclass(frozen=True)
class PairStats:
    """One word-type pair across the corpus (``a <= b``, or ``a`` the asked word for
    :meth:`~transformers_ih.corpus.CorpusInteractions.partners`): ``count`` computed occurrences, from ``texts``
    texts (the texts that contributed a computed cell; cells left out by ``rows=`` count nowhere); ``total``,
    ``mean``, ``mean_abs`` (of ``|interaction|``) and ``std`` (sample standard deviation, 0 for one occurrence)
    of the interaction, in the explained output's units."""

    a: str
    b: str
    count: int
    total: float
    mean: float
    mean_abs: float
    std: float
    texts: int

    @property
    def stderr(self) -> float:
        """Standard error of the mean (``std / sqrt(count)``)."""
        return self.std / math.sqrt(self.count) if self.count else float("nan")


@dataclass(frozen=True)
class WordStats:
    """One word type across the corpus: ``count`` occurrences in ``texts`` texts, the mean attribution and the mean
    main effect (the diagonal ``interactions[i, i]``), in the explained output's units. The main effect is averaged
    over the ``main_effect_count`` occurrences whose diagonal cell was computed (all of them unless explanations of
    selected rows, ``rows=``, left it out); NaN when none was."""

    word: str
    count: int
    mean_attribution: float
    mean_main_effect: float
    texts: int
    main_effect_count: int


@dataclass(frozen=True)
class PairExample:
    """One occurrence of a pair: the text, the two words' positions ``i < j`` and character spans ``(start, end)``,
    the interaction ``value`` (output units), the text's index in ``documents``, its target and prediction."""

    text: str
    i: int
    j: int
    span_i: tuple[int, int]
    span_j: tuple[int, int]
    value: float
    document: int
    target: str
    predicted_label: str

    @property
    def words(self) -> tuple[str, str]:
        """The two words as written in the text (case kept)."""
        return self.text[self.span_i[0] : self.span_i[1]], self.text[self.span_j[0] : self.span_j[1]]


class WordTotals(NamedTuple):
    """The sums behind one word type's :class:`WordStats`: a row of
    :attr:`~transformers_ih.corpus.CorpusInteractions.words`, written to JSON as the list of its fields in this
    order. Totals are in the explained output's units."""

    word: str
    occurrences: int
    attribution_total: float
    main_effect_total: float  # of the diagonal interactions[i, i], over the occurrences where it was computed
    texts: int  # texts it occurs in
    main_effect_count: int  # occurrences whose diagonal cell was computed

    def stats(self) -> WordStats:
        """The means over the word's occurrences (the main effect: over those where it was computed)."""
        n, m = self.occurrences, self.main_effect_count
        main = self.main_effect_total / m if m else float("nan")
        return WordStats(self.word, int(n), self.attribution_total / n, main, int(self.texts), int(m))


class PairTotals(NamedTuple):
    """The sums behind one pair's :class:`PairStats` (``a <= b``): a row of
    :attr:`~transformers_ih.corpus.CorpusInteractions.pairs`, written to JSON as the list of its fields in this
    order. ``total`` and ``total_abs`` (of ``|interaction|``) are in the explained output's units, ``total_squared``
    in its square; ``examples`` are the strongest occurrences by ``|interaction|``, strongest first, each
    ``[document (index into documents), i, j (the words' positions in it, i < j), interaction]``. Only computed
    cells count (``occurrences``: the pair's computed cells; ``texts``: the texts that gave at least one)."""

    a: str
    b: str
    occurrences: int
    total: float
    total_abs: float
    total_squared: float
    texts: int
    examples: list[list[Any]]

    def stats(self, first: str | None = None) -> PairStats:
        """The statistics, with ``first`` as ``a`` when given (for partners of a word)."""
        a, b = (self.b, self.a) if first is not None and first != self.a else (self.a, self.b)
        n = self.occurrences
        mean = self.total / n
        var = max(0.0, self.total_squared / n - mean * mean)
        std = math.sqrt(var * n / (n - 1)) if n > 1 else 0.0
        return PairStats(
            a, b, int(n), float(self.total), float(mean), float(self.total_abs / n), float(std), int(self.texts)
        )
