"""The tabular example notebook examples/tabular_breast_cancer.ipynb: committed without outputs, and runs end to
end (nbclient) in under two minutes; scikit-learn's bundled data, nothing downloaded."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from notebooks import assert_committed_without_outputs, code_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "tabular_breast_cancer.ipynb"
TIME_LIMIT_S = 120


def test_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


@pytest.mark.slow
def test_notebook_runs_without_errors(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=TIME_LIMIT_S, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - start
    assert [out for cell in code_cells(nb) for out in cell.outputs if out.output_type == "error"] == []
    printed = "".join(out.get("text", "") for cell in code_cells(nb) for out in cell.outputs
                      if out.output_type == "stream")
    assert "rows of the interaction matrices sum to the attributions: True" in printed
    assert "round trip exact: True" in printed
    figures = [out for cell in code_cells(nb) for out in cell.outputs
               if "application/vnd.plotly.v1+json" in out.get("data", {})]
    assert len(figures) == 4  # summary, dependence, heatmap, top pairs
    assert elapsed < TIME_LIMIT_S, f"notebook took {elapsed:.0f}s"
