"""The corpus notebook examples/sst2_corpus.ipynb: committed without outputs, reads its model and data from the
environment, and runs end to end (nbclient) on the small real model and the SST-2 copy in ../shared."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from notebooks import assert_committed_without_outputs, code_cells, execute_notebook, shared_model_and_data

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "sst2_corpus.ipynb"
TIME_LIMIT_S = 300  # the whole notebook, on a 2-core CPU


def test_committed_corpus_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


def test_corpus_notebook_reads_its_model_and_data_from_the_environment():
    source = "\n".join(cell.source for cell in code_cells(nbformat.read(NOTEBOOK, as_version=4)))
    for needle in [
        '"TRANSFORMERS_IH_MODEL"',
        '"TRANSFORMERS_IH_SST2_DIR"',
        '"TRANSFORMERS_IH_CORPUS_TEXTS"',
        'load_dataset("glue", "sst2"',
        "explain_dataset(",
        "CorpusInteractions.from_explanations(",
        "explanations(",
    ]:
        assert needle in source


@pytest.mark.slow
def test_corpus_notebook_runs_without_errors(monkeypatch):
    # 3 negated dev sentences instead of the notebook's 6 (one shard of batch_size 3): every cell runs
    run = execute_notebook(
        NOTEBOOK, monkeypatch, TIME_LIMIT_S, TRANSFORMERS_IH_CORPUS_TEXTS="3", **shared_model_and_data()
    )
    printed = run.printed
    assert "explained 3 sentences" in printed and "every shard was already there" in printed
    assert "refused: " in printed and "round trip exact: True" in printed
    assert " x " in printed  # the negation pairs
    outputs = [out for cell in code_cells(run.nb) for out in cell.outputs]
    html = "".join(out.get("data", {}).get("text/html", "") for out in outputs)
    assert "transformers-ih corpus interactions" in html
    assert run.figures  # the partners figure
