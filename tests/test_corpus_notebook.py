"""The corpus notebook examples/sst2_corpus.ipynb: committed without outputs, reads its model and data from the
environment, and runs end to end (nbclient) on the small real model and the SST-2 copy in ../shared."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from notebooks import assert_committed_without_outputs, code_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "sst2_corpus.ipynb"
MODEL_DIR = (ROOT / "../shared/models/distilbert-mini-sst2").resolve()
SST2_DIR = (ROOT / "../shared/data/sst2").resolve()
TIME_LIMIT_S = 300  # the whole notebook, on a 2-core CPU


def test_committed_corpus_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


def test_corpus_notebook_reads_its_model_and_data_from_the_environment():
    source = "\n".join(cell.source for cell in code_cells(nbformat.read(NOTEBOOK, as_version=4)))
    for needle in ['"TRANSFORMERS_IH_MODEL"', '"TRANSFORMERS_IH_SST2_DIR"', 'load_dataset("glue", "sst2"',
                   "explain_dataset(", "CorpusInteractions.from_explanations(", "explanations("]:
        assert needle in source


@pytest.mark.slow
def test_corpus_notebook_runs_without_errors(monkeypatch):
    from nbclient import NotebookClient

    for path in (MODEL_DIR, SST2_DIR / "dev.tsv"):
        if not path.exists():
            pytest.skip(f"{path} is missing (the ../shared folder next to the repository)")
    monkeypatch.setenv("TRANSFORMERS_IH_MODEL", str(MODEL_DIR))
    monkeypatch.setenv("TRANSFORMERS_IH_SST2_DIR", str(SST2_DIR))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=TIME_LIMIT_S, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - start
    outputs = [out for cell in code_cells(nb) for out in cell.outputs]
    assert [out for out in outputs if out.output_type == "error"] == []
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "explained 8 sentences" in printed and "every shard was already there" in printed
    assert "refused: " in printed and "round trip exact: True" in printed
    assert " x " in printed  # the negation pairs
    html = "".join(out.get("data", {}).get("text/html", "") for out in outputs if out.output_type in
                   ("display_data", "execute_result"))
    assert "transformers-ih corpus interactions" in html
    assert elapsed < TIME_LIMIT_S, f"notebook took {elapsed:.0f}s"
