"""The paper's gallery (docs/gallery/*.ipynb) is stored executed: every code cell ran, in order, without an error
output. (Executing them is CI's step after pytest: ``python docs/gallery/run_all.py``.)"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"
NOTEBOOKS = sorted(GALLERY.glob("*.ipynb"))


def test_the_gallery_has_its_notebooks():
    names = [p.name for p in NOTEBOOKS]
    for topic in ("xor", "softplus", "negation", "cnn"):
        assert any(topic in name for name in names), (topic, names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "execute it: python docs/gallery/run_all.py --write"
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for c in cells for o in c.outputs if o.output_type == "stream")
    assert printed.strip(), "no printed numbers"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "What the paper reports" in markdown and "gives" in markdown  # the paper's claim and this model's numbers
