"""The tabular example notebook examples/tabular_breast_cancer.ipynb: committed without outputs, and runs end to
end (nbclient) in under two minutes; scikit-learn's bundled data, nothing downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebooks import assert_committed_without_outputs, execute_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tabular_breast_cancer.ipynb"
TIME_LIMIT_S = 120


def test_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


@pytest.mark.slow
def test_notebook_runs_without_errors(monkeypatch):
    run = execute_notebook(NOTEBOOK, monkeypatch, TIME_LIMIT_S, OMP_NUM_THREADS="1")
    assert "rows of the interaction matrices sum to the attributions: True" in run.printed
    assert "round trip exact: True" in run.printed
    assert len(run.figures) == 4  # summary, dependence, heatmap, top pairs
