"""Hover text of the interaction views, written once as templates.

The plotly figures built in Python fill them here (:func:`fill`); the report sends them in its data
(:data:`TEMPLATES`) and its script fills the same templates in the browser with the texts Python wrote for every
value, so the wording and the number formatting exist only in Python.

Fields are ``{name}`` only (no format specification, no literal braces), so ``str.format`` and the script's
substitution agree. Every value put in is already escaped for plotly (labels: :func:`.format.hover_label`) or
written by :func:`.format.value_text` / :func:`.format.short` / :func:`.format.exact`.
"""

from __future__ import annotations

from typing import Any

from .format import VALUE_TEXT

__all__ = [
    "MAIN_EFFECT",
    "PAIR",
    "PAIR_TOTAL",
    "ATTRIBUTION",
    "FOCUS_MAIN",
    "FOCUS_REST",
    "TEMPLATES",
    "fill",
    "cell_text",
]

MAIN_EFFECT = "<b>{a}</b><br>main effect: {value}"
"""A diagonal cell of the matrix: word ``a``'s main effect."""
PAIR = "<b>{a} × {b}</b><br>interaction[{i}, {j}]: {value}"
"""Cell ``(i, j)`` (words ``a``, ``b``): in the matrix, the focus bars, the arcs and the top pairs."""
PAIR_TOTAL = "<br>pair total (both halves): {total}"
"""Appended to :data:`PAIR` when both halves of the pair are known: ``m[i, j] + m[j, i]``."""
ATTRIBUTION = "<b>{a}</b><br>attribution: {value}"
"""A word marker of the arcs view."""
FOCUS_MAIN = "<b>main effect of {a}</b><br>{value}"
"""The outlined bar of a focus chart."""
FOCUS_REST = "<b>{what}</b><br>sum of their interactions with {a}: {value}"
"""The last bar of a long focus chart (``what``: e.g. ``"61 other words"``)."""

TEMPLATES = {
    "value": VALUE_TEXT,
    "mainEffect": MAIN_EFFECT,
    "pair": PAIR,
    "pairTotal": PAIR_TOTAL,
    "attribution": ATTRIBUTION,
    "focusMain": FOCUS_MAIN,
    "focusRest": FOCUS_REST,
}
"""The templates the report's script fills, by the names it uses."""


def fill(template: str, **fields: Any) -> str:
    """``template`` with each ``{name}`` replaced by ``str(fields[name])``."""
    return template.format(**fields)


def cell_text(a: str, b: str, i: int, j: int, value: str, total: str | None) -> str:
    """Hover text of matrix cell ``(i, j)``, words ``a`` and ``b`` (escaped): the main effect on the diagonal,
    else the pair and, when ``total`` is given, the pair's total. ``value`` / ``total``: written values (or
    the "not computed" note for ``value``). The report's script makes the same choice in the browser."""
    if i == j:
        return fill(MAIN_EFFECT, a=a, value=value)
    text = fill(PAIR, a=a, b=b, i=i, j=j, value=value)
    return text if total is None else text + fill(PAIR_TOTAL, total=total)
