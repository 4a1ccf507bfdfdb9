"""The example notebook examples/llm_prompt_segments.ipynb (issue 13.3): committed without outputs, and runs end to
end offline (nbclient), building its tiny random LLM in the notebook."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from notebooks import assert_committed_without_outputs, code_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "llm_prompt_segments.ipynb"
TIME_LIMIT_S = 300


def test_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


def test_notebook_runs_and_shows_document_interactions(monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=TIME_LIMIT_S, startup_timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.monotonic() - start
    assert [out for cell in code_cells(nb) for out in cell.outputs if out.output_type == "error"] == []
    printed = "".join(out.get("text", "") for cell in code_cells(nb) for out in cell.outputs
                      if out.output_type == "stream")
    for line in ["document matrix: (5, 5) level: spans", "completeness holds: True",
                 "they add up to the answer's: True",
                 "model still torch.bfloat16"]:
        assert line in printed, printed
    assert "['doc 1', 'doc 2', 'doc 3', 'doc 4', 'doc 5']" in printed
    assert elapsed < TIME_LIMIT_S, f"notebook took {elapsed:.0f}s"
