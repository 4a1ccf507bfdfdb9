"""The example notebook examples/llm_prompt_segments.ipynb (issue 13.3): committed without outputs, and runs end to
end offline (nbclient), building its tiny random LLM in the notebook."""

from __future__ import annotations

from pathlib import Path

from notebooks import assert_committed_without_outputs, execute_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "llm_prompt_segments.ipynb"
TIME_LIMIT_S = 300


def test_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(NOTEBOOK)


def test_notebook_runs_and_shows_document_interactions(monkeypatch):
    printed = execute_notebook(NOTEBOOK, monkeypatch, TIME_LIMIT_S).printed
    for line in [
        "document matrix: (5, 5) level: spans",
        "completeness holds: True",
        "they add up to the answer's: True",
        "model still torch.bfloat16",
    ]:
        assert line in printed, printed
    assert "['doc 1', 'doc 2', 'doc 3', 'doc 4', 'doc 5']" in printed
