"""Execute the gallery's notebooks (``docs/gallery/*.ipynb``) with nbclient, offline; exits 1 on the first error.

    python docs/gallery/run_all.py              # run every notebook, print each one's wall time (outputs not kept)
    python docs/gallery/run_all.py --write      # ... and store the outputs in the notebooks (as committed)
    python docs/gallery/run_all.py 01 03        # only the notebooks whose file name contains one of these

The notebooks read the shared SST-2 model and data from ``TRANSFORMERS_IH_MODEL`` / ``TRANSFORMERS_IH_SST2_DIR``,
set here to ``../shared`` next to the repository unless already set; the package is imported from this repository.
Each notebook asserts its own numbers (a failed assertion is an error here); wall times are printed, not checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

GALLERY = Path(__file__).resolve().parent
ROOT = GALLERY.parents[1]
SHARED = ROOT.parent / "shared"


def environment() -> None:
    """Offline, the package from this repository, the shared model and data."""
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_IH_MODEL", str(SHARED / "models" / "distilbert-mini-sst2"))
    os.environ.setdefault("TRANSFORMERS_IH_SST2_DIR", str(SHARED / "data" / "sst2"))


def run(path: Path, write: bool, timeout: int) -> float:
    """Execute the notebook at ``path``; its wall time in seconds. Raises on the first failing cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        startup_timeout=120,
        kernel_name="python3",
        record_timing=False,  # no timestamps in the stored notebook
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.monotonic()
    client.execute()
    seconds = time.monotonic() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    if errors:
        raise RuntimeError(f"{path.name}: an error output: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    if write:
        nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("only", nargs="*", help="run only notebooks whose file name contains one of these")
    parser.add_argument("--write", action="store_true", help="store the outputs in the notebooks")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may take (default 900)")
    args = parser.parse_args(argv)
    environment()
    notebooks = sorted(p for p in GALLERY.glob("*.ipynb") if not args.only or any(s in p.name for s in args.only))
    if not notebooks:
        print(f"no notebook in {GALLERY} matches {args.only}", file=sys.stderr)
        return 1
    for path in notebooks:
        try:
            seconds = run(path, args.write, args.timeout)
        except Exception as err:  # CellExecutionError and the like: name the notebook, fail
            print(f"FAILED {path.name}: {err}", file=sys.stderr)
            return 1
        print(f"{path.name}: {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
