"""Element ids that stay unique when several reports share one page (a notebook with two explanations)."""

from __future__ import annotations

import uuid

__all__ = ["new_report_id", "element_id"]


def new_report_id() -> str:
    """A fresh id for one rendered report, e.g. ``"ih-3f2a9c0d1b7e"`` (valid as an HTML id and CSS selector)."""
    return f"ih-{uuid.uuid4().hex[:12]}"


def element_id(report_id: str, name: str) -> str:
    """The id of the element ``name`` (e.g. ``"matrix"``) inside the report ``report_id``."""
    return f"{report_id}-{name}"
