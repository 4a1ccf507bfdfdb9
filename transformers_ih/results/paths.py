"""Output paths checked before any work: a file to write (``--json``, ``--html``, ``to_json(path)``) and a folder
to write into (``explain_dataset(output_dir=...)``, ``--output-dir``). Each refusal is a ``ValueError`` naming the
argument, the path and the fix, so that a long run never fails at its end for a path that was wrong from the start.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["check_output_file", "check_output_folder"]


def _as_path(path, argument: str) -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{argument} must be a path (a string or a pathlib.Path), got {type(path).__name__} {path!r}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{argument} is {path!r}: pass the path of a file or folder to write")
    if "\x00" in text:
        raise ValueError(f"{argument} {text!r} contains a NUL character: pass a valid path")
    return Path(text)


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest existing parent."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_output_file(path, argument: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` to write a file to: its folder exists and is writable, and it is not a
    folder itself. ``ValueError`` / ``TypeError`` naming ``argument`` otherwise; nothing is created."""
    p = _as_path(path, argument)
    if p.is_dir():
        raise ValueError(f"{argument} {str(p)!r} is a folder: pass the path of a file to write in it, e.g. {p / 'out'}")
    parent = p.parent
    if not parent.exists():
        existing = _first_existing(parent)
        what = "a file, not a folder" if existing.is_file() else "missing"
        raise ValueError(
            f"{argument} {str(p)!r}: its folder {str(parent)!r} does not exist ({str(existing)!r} is {what}); "
            f"create the folder first or pass a path in an existing folder"
        )
    if not parent.is_dir():
        raise ValueError(f"{argument} {str(p)!r}: {str(parent)!r} is a file, not a folder; pass a path in a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ValueError(f"{argument} {str(p)!r} cannot be written (no permission); pass a path you can write to")
    return p


def check_output_folder(path, argument: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` of a folder to write into (made when missing, with its parents): not a
    file, and the nearest existing folder on its way writable. ``ValueError`` / ``TypeError`` naming ``argument``
    otherwise; nothing is created here."""
    p = _as_path(path, argument)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{argument} {str(p)!r} is a file, not a folder: pass a folder (it is created when missing)")
    existing = _first_existing(p)
    if not existing.is_dir():
        raise ValueError(
            f"{argument} {str(p)!r} cannot be created: {str(existing)!r} on its way is a file, not a folder; "
            f"pass another folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(
            f"{argument} {str(p)!r} cannot be written: no permission to write in {str(existing)!r}; pass a "
            f"folder you can write to"
        )
    return p
