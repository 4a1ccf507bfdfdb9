"""The wheel (built here in seconds from a copy of the package, without build isolation): every file of
``transformers_ih/`` is in it (so a template or asset added later cannot be left out), the console script, and
base requirements that are enough for the library and its CLI, bounded where a major version would break us.
The full check (sdist, wheel into a fresh venv, an explanation and an HTML report rendered offline) is
``.ci/check_install.sh``, which CI runs after the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from optional import unavailable

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "transformers_ih"


def _package_files(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in (root / "transformers_ih").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    if int(version("setuptools").split(".")[0]) < 77:
        unavailable("building the wheel without isolation needs setuptools>=77", 'pip install -e ".[test]"')
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(PACKAGE, source / "transformers_ih", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-c", f"import setuptools.build_meta as b; print(b.build_wheel({str(out)!r}))"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return zipfile.ZipFile(out / proc.stdout.strip().splitlines()[-1])


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    path = next(n for n in wheel.namelist() if n.endswith(f".dist-info/{name}"))
    return wheel.read(path).decode()


def test_wheel_holds_every_file_of_the_package(wheel):
    missing = _package_files(ROOT) - set(wheel.namelist())
    assert not missing, f"missing from the wheel: {sorted(missing)}"
    assert not [n for n in wheel.namelist() if n.startswith(("tests/", "benchmarks/", "examples/"))]


def test_console_script_and_bounded_requirements(wheel):
    assert "transformers-ih = transformers_ih.cli:main" in _dist_info(wheel, "entry_points.txt")
    metadata = _dist_info(wheel, "METADATA")
    requires = {line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist: ")}
    base = {r for r in requires if "extra ==" not in r}
    for bounded in ("torch<3,>=2.4", "transformers<6,>=4.45"):
        assert bounded in base, (bounded, sorted(base))
    assert any(r.startswith("plotly") for r in base)  # ships plotly.min.js, inlined into the HTML report
    # The base install stays light: no browser driver, datasets or test tools.
    assert not [r for r in base if r.split("<")[0].split(">")[0].split("=")[0] in {"selenium", "datasets", "pytest"}]
    assert any(r.startswith("datasets<6,>=") for r in requires)  # in the extras, bounded
    assert "Requires-Python: >=3.10" in metadata
