"""Number formatting, word / pair labels and the explanation's header facts, shared by the views (and by the
tabular views: public).

Every number a view or the report's script shows is written here, in Python (:func:`short`, :func:`exact`,
:func:`value_text`). Labels returned here for plotly are already escaped with :func:`.escape.plotly_text`; the
header items are plain text (the HTML renderer escapes them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from .escape import plotly_text

if TYPE_CHECKING:
    from ..results.explanation import Explanation

__all__ = [
    "short",
    "exact",
    "value_text",
    "VALUE_TEXT",
    "TICK_CHARS",
    "truncate",
    "word_text",
    "word_label",
    "word_labels",
    "pair_label",
    "unique_pair_labels",
    "header_items",
    "max_abs",
    "known_cells",
    "full_rows",
    "is_partial",
    "HOVER_LINE_CHARS",
    "HOVER_CHARS",
    "wrap_lines",
    "hover_label",
    "feature_noun",
]


def short(value: float) -> str:
    """Signed, 4 decimals: ``"+0.1235"``."""
    return f"{float(value):+.4f}"


def exact(value: float) -> str:
    """The exact float (shortest round-trip repr): ``"0.12345678901234"``."""
    return repr(float(value))


VALUE_TEXT = "{short} (exact {exact})"
"""How hover text writes a value: its :func:`short` and :func:`exact` texts (also filled by the report's script)."""


def value_text(value: float) -> str:
    """``"+0.1235 (exact 0.12345678901234)"``: readable and exact, for hover text (:data:`VALUE_TEXT`)."""
    return VALUE_TEXT.format(short=short(value), exact=exact(value))


TICK_CHARS = 20
"""Words longer than this are shortened with "…" in tick and axis labels (hover text keeps them whole)."""


def truncate(text: str, max_chars: int | None = TICK_CHARS) -> str:
    """``text`` cut to ``max_chars`` characters (the last one "…"); unchanged when short or ``max_chars`` is None."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[: max_chars - 1] + "…"


def word_text(expl: Explanation, i: int, max_chars: int | None = TICK_CHARS) -> str:
    """Escaped word ``i``, shortened to ``max_chars`` (before escaping, so no entity is cut)."""
    return plotly_text(truncate(expl.words[i], max_chars))


def word_label(expl: Explanation, i: int, max_chars: int | None = None) -> str:
    """Escaped ``"word [i]"``: the position keeps repeated words distinct on axes. Whole word by default
    (hover text); pass ``max_chars=TICK_CHARS`` for tick labels."""
    return f"{word_text(expl, i, max_chars)} [{i}]"


HOVER_LINE_CHARS = 60
"""Hover text wraps a long word (a sentence feature, say) into lines of about this many characters ..."""
HOVER_CHARS = 300
"""... and shortens it with "…" beyond this many, so a hover box stays on screen."""


def wrap_lines(text: str, line_chars: int) -> list[str]:
    """``text`` cut into lines of at most ``line_chars`` characters, at spaces where there are any."""
    lines: list[str] = []
    while len(text) > line_chars:
        cut = text.rfind(" ", 0, line_chars + 1)
        if cut <= 0:
            cut = line_chars
        lines.append(text[:cut])
        text = text[cut:].lstrip(" ")
    return lines + [text]


def hover_label(expl: Explanation, i: int) -> str:
    """Escaped ``"word [i]"`` for hover text: the whole word up to :data:`HOVER_CHARS`, long ones wrapped into
    lines of :data:`HOVER_LINE_CHARS` (joined with ``<br>``, escaped line by line so no entity is cut)."""
    lines = wrap_lines(truncate(expl.words[i], HOVER_CHARS), HOVER_LINE_CHARS)
    return "<br>".join(plotly_text(line) for line in lines) + f" [{i}]"


def feature_noun(expl: Explanation, plural: bool = False) -> str:
    """What a feature is, for titles and notes: ``"word"`` (default), ``"token"``, ``"sentence"`` or ``"span"``
    (from ``expl.level`` when the explanation has one)."""
    noun = {"token": "token", "sentence": "sentence", "spans": "span"}.get(getattr(expl, "level", "word"), "word")
    return noun + "s" if plural else noun


def word_labels(expl: Explanation, max_chars: int | None = TICK_CHARS) -> list[str]:
    """:func:`word_label` of every word, in order, shortened for ticks."""
    return [word_label(expl, i, max_chars) for i in range(len(expl.words))]


def pair_label(expl: Explanation, i: int, j: int, max_chars: int | None = TICK_CHARS) -> str:
    """Escaped ``"word_i × word_j"``, each word shortened to ``max_chars``."""
    return f"{word_text(expl, i, max_chars)} × {word_text(expl, j, max_chars)}"


def unique_pair_labels(expl: Explanation, pairs: list[tuple[int, int]]) -> list[str]:
    """:func:`pair_label` of each ``(i, j)``; a label shared by several pairs gets their positions appended
    (``"the × the [0, 5]"``) so every bar keeps its own category."""
    labels = [pair_label(expl, i, j) for i, j in pairs]
    repeated = {label for label in labels if labels.count(label) > 1}
    return [f"{label} [{i}, {j}]" if label in repeated else label for label, (i, j) in zip(labels, pairs)]


def max_abs(values: np.ndarray) -> float:
    """``max |values|`` (0.0 for an empty array or all-NaN), NaN ignored."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def known_cells(expl: Explanation) -> np.ndarray:
    """``(W, W)`` boolean mask of the interaction cells that hold a value. A partial matrix (explained with
    ``rows=``) marks the computed cells in ``expl.computed`` and holds NaN elsewhere; without that attribute,
    the NaN cells are the unknown ones. Views draw, rank and sum only known cells."""
    m = np.asarray(expl.interactions, dtype=np.float64)
    known = ~np.isnan(m)
    computed = getattr(expl, "computed", None)
    if computed is not None:
        known &= np.asarray(computed, dtype=bool)
    return known


def full_rows(expl: Explanation) -> np.ndarray:
    """``(W,)`` booleans: rows of the interaction matrix that are known in full (every exact row of a partial
    matrix; every row of a full one)."""
    return cast(np.ndarray, known_cells(expl).all(axis=1))


def is_partial(expl: Explanation) -> bool:
    """Whether some interaction cells are unknown (not computed)."""
    return expl.interactions is not None and not bool(known_cells(expl).all())


def header_items(expl: Explanation) -> list[tuple[str, str]]:
    """``(name, value)`` facts shown above the views: prediction, explained output, f(x) − f(x'), completeness
    error, smoothing (when used), the features (when not words), how much of a partial matrix is known, path
    points, baseline, method. Plain (unescaped) text."""
    items = [
        ("prediction", f"{expl.predicted_label} (p = {expl.predicted_probability:.4f})"),
        (
            "explained",
            f"{expl.target}" + ("" if expl.target_index is None else f" [{expl.target_index}]") + f" {expl.output}",
        ),
        (
            "f(x) − f(x')",
            f"{expl.f_input:.4f} − {expl.f_baseline:.4f} = {expl.delta:+.4f}",
        ),
        ("completeness error", f"{expl.completeness_error:.2e}"),
    ]
    if expl.smoothing is not None:
        items.append(("smoothing", str(expl.smoothing)))
    if feature_noun(expl) != "word":
        items.append(("features", f"{len(expl.words)} {feature_noun(expl, plural=True)}"))
    if is_partial(expl):
        items.append(("interactions", f"partial: {int(full_rows(expl).sum())} of {len(expl.words)} rows exact"))
    estimator = getattr(expl, "estimator", "integrated-hessians")
    if estimator != "integrated-hessians":
        facts = expl.meta.get("shapley", {}) if isinstance(expl.meta, dict) else {}
        efficient = (
            "efficient" if facts.get("efficient") else "not efficient: the matrix need not add up to f(x) − f(x')"
        )
        items.append(("estimator", f"{estimator} ({efficient}; budget {facts.get('budget', '?')})"))
    else:
        items.append(("path points", str(expl.steps)))
    items += [
        ("baseline", str(expl.baseline)),
        ("method", str(expl.method)),
    ]
    return items
