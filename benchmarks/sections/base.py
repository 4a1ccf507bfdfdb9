"""What a section renderer returns (``Section``, ``Target``) and the number formats and Markdown table every
section shares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Target:
    """One row of the report's targets table; ``met`` is decided from the measured numbers (None: undecided)."""

    name: str
    threshold: str
    measured: str
    met: bool | None


@dataclass(frozen=True)
class Section:
    """A benchmark's part of the report: its heading, Markdown body, targets, and lines for "What was measured and
    what was extrapolated"."""

    title: str
    text: str
    targets: tuple[Target, ...] = ()
    limits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Output:
    """Where a renderer may write extra files such as figures (``files``; None: write none), and the report's own
    path (links are relative to it)."""

    files: Path | None
    report: Path

    def link(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.report.parent)).as_posix()


NO_RESULTS = "No results."


def fs(x, digits=2) -> str:
    """Seconds."""
    if x is None:
        return "-"
    if x >= 3600:
        return f"{x / 3600:.1f} h"
    if x >= 100:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.{digits}g} s" if x < 10 else f"{x:.1f} s"
    return f"{x * 1000:.0f} ms" if x >= 0.01 else f"{x * 1000:.1f} ms"


def fe(x) -> str:
    """Errors."""
    if x is None:
        return "-"
    return f"{x:.1e}"


def fr(x) -> str:
    """Ratios."""
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}x"
    if x >= 10:
        return f"{x:.0f}x"
    return f"{x:.2f}x"


def table(headers, rows) -> str:
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def median(values) -> float:
    return float(np.median(values))
