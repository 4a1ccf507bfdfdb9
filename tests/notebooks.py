"""Helpers for the notebook tests: the committed examples carry no outputs and run end to end."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from optional import unavailable

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = (ROOT / "../shared/models/distilbert-mini-sst2").resolve()
SST2_DIR = (ROOT / "../shared/data/sst2").resolve()


def shared_model_and_data() -> dict[str, str]:
    """The environment the SST-2 notebooks read (the small real model and the SST-2 copy in ../shared); skips
    (fails under CI) naming what is missing."""
    for path in (MODEL_DIR, SST2_DIR / "dev.tsv"):
        if not path.exists():
            unavailable(f"{path} is missing", "put the ../shared folder (models, data) next to the repository")
    return {"TRANSFORMERS_IH_MODEL": str(MODEL_DIR), "TRANSFORMERS_IH_SST2_DIR": str(SST2_DIR)}


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def assert_committed_without_outputs(path: Path) -> None:
    """The notebook at ``path`` is valid and none of its code cells has outputs or an execution count."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


@dataclass
class Executed:
    """A notebook run: the executed notebook, everything it printed, its figures and its wall time."""

    nb: object
    printed: str
    figures: list
    seconds: float


def execute_notebook(path: Path, monkeypatch, timeout: float, **env: str) -> Executed:
    """Run the notebook at ``path`` end to end (nbclient, the package importable from the repository, offline, with
    ``env`` set); fails on the first failing cell, on any error output, and when it takes ``timeout`` or longer."""
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.monotonic()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.monotonic() - start
    outputs = [out for cell in code_cells(nb) for out in cell.outputs]
    assert [out for out in outputs if out.output_type == "error"] == []
    assert seconds < timeout, f"{path.name} took {seconds:.0f} s"
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    figures = [out for out in outputs if "application/vnd.plotly.v1+json" in out.get("data", {})]
    return Executed(nb, printed, figures, seconds)
