"""Helpers for the notebook tests: the committed examples carry no outputs and run end to end."""

from __future__ import annotations

from pathlib import Path

import nbformat


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def assert_committed_without_outputs(path: Path) -> None:
    """The notebook at ``path`` is valid and none of its code cells has outputs or an execution count."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]
