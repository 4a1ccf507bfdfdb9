"""The example notebook examples/sst2_distilbert.ipynb: committed without outputs, and runs end to end (nbclient)
against the small real model and SST-2 copy in ../shared."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from notebooks import assert_committed_without_outputs, code_cells, execute_notebook, shared_model_and_data

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "sst2_distilbert.ipynb"
TIME_LIMIT_S = 600  # the whole notebook, on a 2-core CPU


def test_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


def test_notebook_reads_its_model_and_data_from_the_environment():
    source = "\n".join(cell.source for cell in code_cells(nbformat.read(NOTEBOOK, as_version=4)))
    for needle in [
        '"TRANSFORMERS_IH_MODEL"',
        '"distilbert-base-uncased-finetuned-sst-2-english"',
        '"TRANSFORMERS_IH_SST2_DIR"',
        'load_dataset("glue", "sst2")',
        '"TRANSFORMERS_IH_SAMPLE_SENTENCES"',
        "from transformers_ih import SequenceClassificationInteractionExplainer",
    ]:
        assert needle in source


@pytest.mark.slow
def test_notebook_runs_without_errors(monkeypatch):
    # 2 dev sentences instead of the notebook's 12: the same cells run, at a sixth of the explanations' time
    run = execute_notebook(
        NOTEBOOK, monkeypatch, TIME_LIMIT_S, TRANSFORMERS_IH_SAMPLE_SENTENCES="2", **shared_model_and_data()
    )
    assert "opposite signs: True" in run.printed  # not × bad and not × good pull the POSITIVE logit apart
