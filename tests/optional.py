"""One rule for missing optional test dependencies, in every test module: skipped with the reason and the fix
outside CI; failed under CI (``CI`` set to any truthy value), where nothing may be silently skipped."""

from __future__ import annotations

import importlib
import os

import pytest


def running_under_ci() -> bool:
    """``CI`` set to anything but empty, ``0``, ``false`` or ``no`` (case-insensitive)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def unavailable(reason: str, fix: str) -> None:
    """Skip (outside CI) or fail (under CI) the calling test, saying what is missing and how to get it."""
    if running_under_ci():
        pytest.fail(f"{reason}; CI is set, so this fails instead of skipping; {fix}", pytrace=False)
    pytest.skip(f"{reason}; {fix} (under CI it fails instead)")


def require(module: str, fix: str):
    """The imported ``module``, or :func:`unavailable` naming ``fix`` (e.g. ``pip install captum``)."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        unavailable(f"{module} cannot be imported ({err})", fix)
