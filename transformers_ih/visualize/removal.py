"""The removal check in the report: each checked pair's value beside its removal interaction, and whether they
agree, in words (see :attr:`~transformers_ih.Explanation.removal_check`). Every piece of text is escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .escape import html_text
from .format import short, word_text

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = ["agreement_words", "removal_html"]


def agreement_words(check: dict[str, Any]) -> str:
    """How the checked pairs' values and their removal interactions agree, in one or two sentences (plain
    text): signs agreeing, the correlation read as strong / moderate / weak, and the median size of ``Delta``
    relative to the pair's value."""
    pairs = check.get("pairs") or []
    if not pairs:
        return "No pair was checked (fewer than two features, or check=0)."
    agree = sum(1 for p in pairs if np.sign(p["interaction"]) == np.sign(p["removal"]))
    corr = check.get("correlation")
    if corr is None:
        strength = "too few pairs (or equal values) for a correlation"
    else:
        level = "strongly" if abs(corr) >= 0.9 else "moderately" if abs(corr) >= 0.6 else "weakly"
        verb = "agree" if corr > 0 else "disagree"
        strength = f"their rankings {verb} {level} (correlation {corr:+.2f})"
    ratios = [abs(p["removal"]) / abs(p["interaction"]) for p in pairs if p["interaction"]]
    scale = (
        f" Removing a pair moves the output by {float(np.median(ratios)):.2g} times the pair's value (median): "
        "the matrix decomposes the path from the baseline, not removals."
        if ratios
        else ""
    )
    return f"Signs agree on {agree} of {len(pairs)} pairs; {strength}.{scale}"


def removal_html(expl: Explanation | None) -> str:
    """Escaped HTML: the check's agreement in words and a compact table (pair, its value, its removal
    interaction); ``""`` when the explanation has no check."""
    check = None if expl is None else expl.removal_check
    if not isinstance(check, dict) or not check.get("pairs"):
        return ""
    rows = "".join(
        f"<tr><td>{word_text(expl, int(p['i']))} × {word_text(expl, int(p['j']))}</td>"
        f"<td>{html_text(short(p['interaction']))}</td><td>{html_text(short(p['removal']))}</td></tr>"
        for p in check["pairs"]
        if expl is not None
    )
    head = "<tr><th>pair</th><th>pair value (matrix)</th><th>removal Δ</th></tr>"
    note = (
        "Removal check: Δ = v(N) − v(N∖i) − v(N∖j) + v(N∖{i, j}), the change of the output when both words "
        "are set to the baseline, beside the pair's value in the matrix (cell (i, j) + (j, i)). "
        + agreement_words(check)
    )
    return (
        f'<p class="ih-note ih-check-words">{html_text(note)}</p>'
        f'<table class="ih-check"><thead>{head}</thead><tbody>{rows}</tbody></table>'
    )
