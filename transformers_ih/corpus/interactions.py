""":class:`CorpusInteractions`: word-pair interactions across many explanations.

For every pair of word *types* (case-folded unless ``case_sensitive=True``) that occur together in an explained
text: how often the pair was explained (``count``: one per pair of positions ``i < j`` in a text), the mean
interaction ``interactions[i, j]`` (half the pair's total in that text, as in
:meth:`~transformers_ih.Explanation.top_interactions`), the mean ``|interaction|``, the total, the spread, the
number of texts, and the strongest examples. Per word: its occurrences, mean attribution and mean main effect.

Values are in the explained output's units and signed toward each explanation's own target: explain one target for
every text (``target="POSITIVE"``) to read a corpus-level sign, or keep one target with ``target=`` here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..results.json_record import JsonRecord
from ..results.paths import check_output_file
from ..results.validation import check_corpus_dict, check_count, check_optional_count
from .aggregate import aggregate
from .comparison import ComparedPair, CorpusComparison
from .records import PairExample, PairStats, PairTotals, WordStats, WordTotals

__all__ = [
    "CorpusInteractions",
    "PairStats",
    "WordStats",
    "PairExample",
    "PairTotals",
    "WordTotals",
    "CorpusComparison",
    "ComparedPair",
]

RANKINGS = ("mean_abs", "mean", "total", "count")


@dataclass(eq=False)
class CorpusInteractions(JsonRecord):
    """Word-pair interactions across a corpus: build with :meth:`from_explanations` (a list of explanations, or
    the dataset :func:`~transformers_ih.explain_dataset` returns). See the module docstring for what is counted.

    Attributes (JSON fields): ``name`` (e.g. the model), ``case_sensitive``, ``max_examples`` (strongest examples
    kept per pair), ``documents`` (each explained text: text, word spans, target, prediction), ``targets``
    (``"target (output)" -> texts``), ``words`` and ``pairs`` (the sums behind the statistics: :class:`WordTotals`
    and :class:`PairTotals`, each written as a list).
    """

    name: str = ""
    case_sensitive: bool = False
    max_examples: int = 5
    documents: list[dict[str, Any]] = field(default_factory=list)
    targets: dict[str, int] = field(default_factory=dict)
    words: list[WordTotals] = field(default_factory=list)
    pairs: list[PairTotals] = field(default_factory=list)

    #: 2: a word row ends with its main-effect count, documents hold their level and computed rows (1 still loads)
    FORMAT_VERSION: ClassVar[int] = 2
    _json_kind: ClassVar[str] = "corpus interactions"

    # ------------------------------------------------------------------ building
    @classmethod
    def from_explanations(
        cls,
        source,
        *,
        case_sensitive: bool = False,
        max_examples: int = 5,
        target: str | None = None,
        name: str | None = None,
    ) -> CorpusInteractions:
        """Aggregate explanations with interactions: a list of :class:`~transformers_ih.Explanation` (or of a
        task's ``{key: Explanation}`` results), or :func:`~transformers_ih.explain_dataset`'s dataset.

        ``case_sensitive``: keep case (default: word types are case-folded). ``max_examples``: strongest
        occurrences kept per pair. ``target``: only explanations of this target. ``name``: a label for views and
        :meth:`compare` (default: the explanations' model)."""
        max_examples = check_count(max_examples, "max_examples")
        if not isinstance(case_sensitive, bool):
            raise TypeError(f"case_sensitive must be True or False, got {case_sensitive!r}")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"target must be a target name (a string, as Explanation.target) or None, got {target!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {type(name).__name__} {name!r}")
        sums = aggregate(source, case_sensitive=case_sensitive, max_examples=max_examples, target=target)
        models = sums["models"]
        label = name if name is not None else (models.most_common(1)[0][0] if models else "")
        return cls(
            name=label,
            case_sensitive=case_sensitive,
            max_examples=max_examples,
            documents=sums["documents"],
            targets=sums["targets"],
            words=sums["words"],
            pairs=sums["pairs"],
        )

    @classmethod
    def _validate(cls, d: dict[str, Any]) -> None:
        """Field types, documents (offsets within their text), word and pair rows and their examples (see
        :mod:`transformers_ih.results.validation`); ``ValueError`` naming the field and the fix."""
        check_corpus_dict(d, WordTotals._fields, PairTotals._fields)

    def __post_init__(self) -> None:
        if not isinstance(self.pairs, list) or not isinstance(self.words, list):
            raise TypeError("pairs and words must be lists")
        self.words = [row if isinstance(row, WordTotals) else _word_totals(row) for row in self.words]
        self.pairs = [row if isinstance(row, PairTotals) else PairTotals(*row) for row in self.pairs]
        self._index()

    def _index(self) -> None:
        self._pairs = {(row.a, row.b): row for row in self.pairs}
        self._words = {row.word: row for row in self.words}
        self._partners: dict[str, list[tuple[str, str]]] = {}
        for a, b in self._pairs:
            self._partners.setdefault(a, []).append((a, b))
            if b != a:
                self._partners.setdefault(b, []).append((a, b))

    # ------------------------------------------------------------------ statistics
    def _key(self, word: str) -> str:
        if not isinstance(word, str):
            raise TypeError(f"a word must be a string, got {type(word).__name__} {word!r}")
        return word if self.case_sensitive else word.casefold()

    def __contains__(self, word: str) -> bool:
        """Whether the word type occurs in the corpus (``"not" in corpus``)."""
        return isinstance(word, str) and self._key(word) in self._words

    @property
    def num_texts(self) -> int:
        return len(self.documents)

    @property
    def num_pairs(self) -> int:
        return len(self.pairs)

    def pair(self, a: str, b: str) -> PairStats:
        """The statistics of the pair ``a``, ``b`` (either order); ``KeyError`` if it never occurred."""
        a, b = self._key(a), self._key(b)
        row = self._pairs.get((a, b) if a <= b else (b, a))
        if row is None:
            raise KeyError(f"the pair ({a!r}, {b!r}) does not occur in the corpus")
        return row.stats(a)

    def word(self, word: str) -> WordStats:
        """One word type's occurrences, mean attribution and mean main effect; ``KeyError`` if absent."""
        row = self._words.get(self._key(word))
        if row is None:
            raise KeyError(f"the word {word!r} does not occur in the corpus")
        return row.stats()

    def _rank(self, stats: list[PairStats], k: int | None, by: str, min_count: int, sign: str | None):
        if by not in RANKINGS:
            raise ValueError(f"by must be one of {RANKINGS}, got {by!r}")
        if sign not in (None, "positive", "negative"):
            raise ValueError(f"sign must be None, 'positive' or 'negative', got {sign!r}")
        stats = [s for s in stats if s.count >= min_count]
        if sign == "positive":
            stats = [s for s in stats if s.mean > 0]
        elif sign == "negative":
            stats = [s for s in stats if s.mean < 0]

        def score(s: PairStats) -> float:
            value = getattr(s, by)
            if sign == "negative" and by in ("mean", "total"):
                return -value
            return abs(value) if by in ("mean", "total") and sign is None else value

        stats.sort(key=lambda s: (-score(s), -s.count, s.a, s.b))
        return stats if k is None else stats[:k]

    @staticmethod
    def _check_rank_args(k, min_count) -> int | None:
        check_count(min_count, "min_count")
        return check_optional_count(k, "k")

    def top_pairs(
        self, k: int | None = 10, *, by: str = "mean_abs", min_count: int = 1, sign: str | None = None
    ) -> list[PairStats]:
        """The ``k`` strongest pairs seen at least ``min_count`` times, ranked ``by`` ``"mean_abs"`` (default),
        ``"mean"`` / ``"total"`` (by absolute value; ``sign="positive"`` or ``"negative"`` keeps one sign, most
        extreme first) or ``"count"``. Raise ``min_count`` to leave out pairs seen once or twice. ``k``: an integer
        >= 0, or ``None`` for all."""
        k = self._check_rank_args(k, min_count)
        return self._rank([row.stats() for row in self.pairs], k, by, min_count, sign)

    def partners(
        self, word: str, k: int | None = 10, *, by: str = "mean_abs", min_count: int = 1, sign: str | None = None
    ) -> list[PairStats]:
        """``word``'s partners (pairs with ``a == word``), ranked as in :meth:`top_pairs`."""
        k = self._check_rank_args(k, min_count)
        if not isinstance(word, str):
            raise TypeError(f"word must be a string, got {type(word).__name__} {word!r}")
        w = self._key(word)
        if w not in self._words:
            raise KeyError(f"the word {word!r} does not occur in the corpus")
        return self._rank([self._pairs[key].stats(w) for key in self._partners.get(w, [])], k, by, min_count, sign)

    def examples(self, a: str, b: str, k: int | None = None) -> list[PairExample]:
        """The strongest occurrences (by ``|interaction|``; at most ``max_examples`` are kept) of the pair, with
        their texts."""
        k = check_optional_count(k, "k")
        if not isinstance(a, str) or not isinstance(b, str):
            raise TypeError(f"a and b must be word strings, got {a!r} and {b!r}")
        a, b = self._key(a), self._key(b)
        key = (a, b) if a <= b else (b, a)
        row = self._pairs.get(key)
        if row is None:
            raise KeyError(f"the pair ({a!r}, {b!r}) does not occur in the corpus")
        out = []
        for d, i, j, v in row.examples[: k if k is not None else None]:
            doc = self.documents[d]
            out.append(
                PairExample(
                    doc["text"],
                    i,
                    j,
                    tuple(doc["offsets"][i]),
                    tuple(doc["offsets"][j]),
                    v,
                    d,
                    doc["target"],
                    doc["predicted_label"],
                )
            )
        return out

    def top_words(self, k: int | None = 10, *, min_count: int = 1) -> list[WordStats]:
        """Word types by ``|mean attribution|``, seen at least ``min_count`` times."""
        k = self._check_rank_args(k, min_count)
        stats = [row.stats() for row in self.words if row.occurrences >= min_count]
        stats.sort(key=lambda s: (-abs(s.mean_attribution), s.word))
        return stats if k is None else stats[:k]

    def compare(self, other: CorpusInteractions, *, min_count: int = 1) -> CorpusComparison:
        """This corpus against ``other`` (e.g. another model on the same texts): every pair seen at least
        ``min_count`` times in both, with both means and their difference (``self - other``)."""
        if not isinstance(other, CorpusInteractions):
            raise TypeError(f"compare takes another CorpusInteractions, got {type(other).__name__}")
        if self.case_sensitive != other.case_sensitive:
            raise ValueError("one corpus folds case and the other does not: build both with the same case_sensitive")
        rows = []
        for key, row in self._pairs.items():
            theirs = other._pairs.get(key)
            if theirs is None:
                continue
            s, t = row.stats(), theirs.stats()
            if s.count >= min_count and t.count >= min_count:
                rows.append(ComparedPair(key[0], key[1], s.count, t.count, s.mean, t.mean, s.mean - t.mean))
        mine = Counter(doc["text"] for doc in self.documents)
        theirs_texts = Counter(doc["text"] for doc in other.documents)
        return CorpusComparison(
            self.name or "first",
            other.name or "second",
            rows,
            shared_texts=sum((mine & theirs_texts).values()),
            same_texts=mine == theirs_texts,
        )

    def summary(self, k: int = 10, *, min_count: int = 2) -> str:
        """Plain text: texts, targets and the ``k`` strongest pairs seen at least ``min_count`` times."""
        lines = [
            f"{self.num_texts} texts, {len(self.words)} word types, {self.num_pairs} word-type pairs"
            + (f" ({self.name})" if self.name else ""),
            "explained: " + ", ".join(f"{t}: {n}" for t, n in sorted(self.targets.items())),
            f"strongest pairs (mean interaction, seen >= {min_count} times):",
        ]
        for s in self.top_pairs(k, min_count=min_count):
            lines.append(f"  {s.a!r:>15} x {s.b!r:<15} mean {s.mean:+.4f}  |mean| {s.mean_abs:.4f}  n={s.count}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"CorpusInteractions(name={self.name!r}, texts={self.num_texts}, words={len(self.words)}, "
            f"pairs={self.num_pairs}, case_sensitive={self.case_sensitive})"
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; each row of ``words`` and ``pairs`` a plain list of its fields in order."""
        d = super().to_dict()
        d["words"] = [list(row) for row in self.words]
        d["pairs"] = [list(row._replace(examples=[list(e) for e in row.examples])) for row in self.pairs]
        return d

    # ------------------------------------------------------------------ views (transformers_ih.visualize.corpus)
    def plot_top_pairs(self, k: int = 15, **kwargs: Any):
        """Plotly bars of the strongest pairs' mean interactions (see
        :func:`~transformers_ih.visualize.corpus.plot_corpus_pairs`)."""
        from ..visualize.corpus import plot_corpus_pairs

        return plot_corpus_pairs(self, k=k, **kwargs)

    def plot_partners(self, word: str | None = None, k: int = 15, **kwargs: Any):
        """Plotly bars of a word's partners (with ``word=None``: a menu over the most connected words)."""
        from ..visualize.corpus import plot_partners

        return plot_partners(self, word, k=k, **kwargs)

    def to_html(self, **kwargs: Any) -> str:
        """A self-contained HTML corpus report (see :func:`~transformers_ih.visualize.corpus.corpus_html`)."""
        from ..visualize.corpus import corpus_html

        return corpus_html(self, **kwargs)

    def save_html(self, path: str | Path, **kwargs: Any) -> Path:
        """Write :meth:`to_html` to ``path`` (``ValueError`` first for a folder or a missing folder)."""
        path = check_output_file(path, "path")
        path.write_text(self.to_html(**kwargs), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return self.to_html(full_document=False)


def _word_totals(row) -> WordTotals:
    """A word row as loaded; a row of format 1 (no main-effect count: every main effect was computed) gets it."""
    values = list(row) if len(row) == len(WordTotals._fields) else [*row, row[1]]
    return WordTotals(*values)
