"""Explain a corpus: a dataset in, a dataset out (resumable, here or on a Ray cluster), and word-pair interactions
across the corpus.

* :func:`explain_dataset`: every row of a ``datasets`` dataset (or a file / hub dataset it loads) explained, shard
  by shard, written to ``output_dir`` as it goes and resumed when called again; ``engine="ray"`` for a Ray cluster.
* :func:`explanations` / :func:`results`: its rows back as :class:`~transformers_ih.Explanation` objects, exactly.
* :class:`CorpusInteractions`: per word-type pair statistics over many explanations, partners, examples,
  comparisons of two models, views and an exact JSON round trip.
"""

from .columns import EXPLANATION_COLUMNS, explanation_from_row, explanations, results
from .dataset import explain_dataset
from .engines import Engine, LocalEngine, RayEngine
from .interactions import CorpusComparison, CorpusInteractions, PairStats, WordStats
from .store import read_output

__all__ = [
    "EXPLANATION_COLUMNS",
    "CorpusComparison",
    "CorpusInteractions",
    "Engine",
    "LocalEngine",
    "PairStats",
    "RayEngine",
    "WordStats",
    "explain_dataset",
    "explanation_from_row",
    "explanations",
    "read_output",
    "results",
]
