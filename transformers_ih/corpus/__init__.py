"""Explain a corpus: a dataset in, a dataset out (resumable, here or on a Ray cluster), and word-pair interactions
across the corpus.

* :func:`explain_dataset`: every row of a ``datasets`` dataset (or a file / hub dataset it loads) explained, shard
  by shard, written to ``output_dir`` as it goes and resumed when called again; ``engine="ray"`` for a Ray cluster.
* :func:`explanations` / :func:`results`: its rows back as :class:`~transformers_ih.Explanation` objects, exactly.
* :class:`CorpusInteractions`: per word-type pair statistics over many explanations, partners, examples,
  comparisons of two models, views and an exact JSON round trip.
"""

import importlib

# name -> module; loaded on first use (CorpusInteractions needs no pyarrow; the rest needs datasets and pyarrow)
_NAMES = {
    "EXPLANATION_COLUMNS": "columns",
    "explanation_from_row": "columns",
    "explanations": "columns",
    "results": "columns",
    "explain_dataset": "dataset",
    "Engine": "engines",
    "LocalEngine": "engines",
    "RayEngine": "engines",
    "CorpusComparison": "interactions",
    "CorpusInteractions": "interactions",
    "PairStats": "records",
    "WordStats": "records",
    "PairTotals": "records",
    "WordTotals": "records",
    "read_output": "store",
}
MISSING = 'explain_dataset needs datasets and pyarrow: pip install "transformers-ih[datasets]"'


def __getattr__(name):
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module 'transformers_ih.corpus' has no attribute {name!r}")
    try:
        return getattr(importlib.import_module(f".{module}", __name__), name)
    except ModuleNotFoundError as err:
        if err.name in ("pyarrow", "datasets"):
            raise ImportError(f"{MISSING} ({err})") from None
        raise


def __dir__():
    return sorted(list(globals()) + list(_NAMES))


__all__ = [
    "EXPLANATION_COLUMNS",
    "CorpusComparison",
    "CorpusInteractions",
    "Engine",
    "LocalEngine",
    "PairStats",
    "PairTotals",
    "RayEngine",
    "WordStats",
    "WordTotals",
    "explain_dataset",
    "explanation_from_row",
    "explanations",
    "read_output",
    "results",
]
