"""The sums behind :class:`~transformers_ih.corpus.CorpusInteractions`, over many explanations.

Only computed cells count: an explanation of selected rows (``rows=``) holds NaN where a cell was not computed
(``Explanation.computed`` is false there), and such a cell adds nothing to any sum or count. A pair's
``occurrences`` and ``texts`` are the computed occurrences and the texts that gave at least one; a word's main
effect is summed over the occurrences whose diagonal cell was computed (``main_effect_count``), its attribution
over every occurrence (attributions are always whole).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..results.explanation import Explanation
from .records import PairTotals, WordTotals

__all__ = ["iter_explanations", "aggregate", "document_of"]


class _WordSums:
    __slots__ = ("occurrences", "attribution", "main_effect", "main_count", "texts", "last")

    def __init__(self) -> None:
        self.occurrences, self.main_count, self.texts, self.last = 0, 0, 0, -1
        self.attribution, self.main_effect = 0.0, 0.0


class _PairSums:
    __slots__ = ("occurrences", "total", "total_abs", "total_squared", "texts", "last", "examples")

    def __init__(self) -> None:
        self.occurrences, self.texts, self.last = 0, 0, -1
        self.total, self.total_abs, self.total_squared = 0.0, 0.0, 0.0
        self.examples: list = []  # min-heap of (|value|, -document, -i, -j, value)


def iter_explanations(source, target: str | None) -> Iterator[Explanation]:
    """The explanations of ``source`` (an Explanation, a list of Explanations or of a task's results: dicts
    ``{key: Explanation}`` or lists of per-token explanations, or explain_dataset's dataset / Arrow table), of
    ``target`` only when given."""
    from . import columns

    if isinstance(source, (Explanation, dict)):  # one explanation, or one input's {key: Explanation}
        source = [source]
    if hasattr(source, "column_names") or type(source).__name__ == "Table":
        items: Iterable = (columns.explanation_from_row(r) for r in columns.explanation_rows(source))
    elif isinstance(source, (str, bytes)) or not isinstance(source, Iterable):
        raise TypeError(
            f"CorpusInteractions.from_explanations takes a list of Explanations (or the explainer's results, or "
            f"explain_dataset's dataset), got {type(source).__name__}"
        )
    else:
        items = source
    for item in items:
        inner = item.values() if isinstance(item, dict) else item if isinstance(item, list) else [item]
        for e in inner:
            if not isinstance(e, Explanation):
                raise TypeError(
                    f"CorpusInteractions takes Explanations (or the explainer's dict or list results, or "
                    f"explain_dataset's dataset), got {type(e).__name__}"
                )
            if target is None or e.target == target:
                yield e


def _computed_rows(e: Explanation) -> list[int] | None:
    """The features whose whole row was computed (``rows=``), or ``None`` for a full matrix."""
    if e.computed is None:
        return None
    return [int(i) for i in np.flatnonzero(e.computed.all(axis=1))]


def document_of(e: Explanation) -> dict[str, Any]:
    """What a corpus keeps of one explanation: its text, feature spans, level, computed rows (``None``: all),
    target, output and prediction."""
    return {
        "text": e.text,
        "offsets": [list(s) for s in e.offsets],
        "level": e.level,
        "rows": _computed_rows(e),
        "target": e.target,
        "output": e.output,
        "predicted_label": e.predicted_label,
    }


def aggregate(source, *, case_sensitive: bool, max_examples: int, target: str | None) -> dict[str, Any]:
    """The sums of every explanation of ``source`` (module docstring): ``documents``, ``targets``, ``models`` (a
    Counter of ``meta["model"]``), ``words`` (:class:`WordTotals`, sorted) and ``pairs`` (:class:`PairTotals`,
    sorted, only pairs with at least one computed occurrence)."""
    pairs: dict[tuple[str, str], _PairSums] = {}
    words: dict[str, _WordSums] = {}
    documents: list[dict[str, Any]] = []
    targets: Counter = Counter()
    models: Counter = Counter()
    for e in iter_explanations(source, target):
        if e.interactions is None:
            raise ValueError(
                f"an explanation has no interactions (explained with interactions=False): "
                f"{e.text[:60]!r}; CorpusInteractions needs Integrated Hessians"
            )
        d = len(documents)
        documents.append(document_of(e))
        targets[f"{e.target} ({e.output})"] += 1
        models[str(e.meta.get("model", ""))] += 1
        types = [w if case_sensitive else w.casefold() for w in e.words]
        m = np.asarray(e.interactions, dtype=np.float64)
        known = ~np.isnan(m) if e.computed is None else np.asarray(e.computed, dtype=bool) & ~np.isnan(m)
        for i, w in enumerate(types):
            acc = words.get(w)
            if acc is None:
                acc = words[w] = _WordSums()
            acc.occurrences += 1
            acc.attribution += float(e.attributions[i])
            if known[i, i]:
                acc.main_count += 1
                acc.main_effect += float(m[i, i])
            if acc.last != d:
                acc.texts, acc.last = acc.texts + 1, d
        iu, ju = np.triu_indices(len(types), k=1)
        cells = known[iu, ju]
        iu, ju = iu[cells], ju[cells]
        for i, j, v in zip(iu.tolist(), ju.tolist(), m[iu, ju].tolist()):
            a, b = types[i], types[j]
            key = (a, b) if a <= b else (b, a)
            p = pairs.get(key)
            if p is None:
                p = pairs[key] = _PairSums()
            p.occurrences += 1
            p.total += v
            p.total_abs += abs(v)
            p.total_squared += v * v
            if p.last != d:
                p.texts, p.last = p.texts + 1, d
            if max_examples:
                item = (abs(v), -d, -i, -j, v)
                if len(p.examples) < max_examples:
                    heapq.heappush(p.examples, item)
                elif item > p.examples[0]:
                    heapq.heapreplace(p.examples, item)
    if not documents:
        raise ValueError("no explanations to aggregate" + (f" with target {target!r}" if target else ""))
    word_rows = [
        WordTotals(w, acc.occurrences, acc.attribution, acc.main_effect, acc.texts, acc.main_count)
        for w, acc in sorted(words.items())
    ]
    pair_rows = []
    for (a, b), p in sorted(pairs.items()):
        examples = [[-nd, -ni, -nj, v] for _, nd, ni, nj, v in sorted(p.examples, reverse=True)]
        pair_rows.append(PairTotals(a, b, p.occurrences, p.total, p.total_abs, p.total_squared, p.texts, examples))
    return {"documents": documents, "targets": dict(targets), "models": models, "words": word_rows, "pairs": pair_rows}
