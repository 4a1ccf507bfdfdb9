"""What a report carries to the browser: one copy of the numbers, and each figure once for every theme.

* :func:`report_data`: the explanation's numbers (attributions, the interaction matrix and its pairs' totals) as
  the texts the views show, written in Python and packed (:mod:`._numbers`, about 19 characters a value); a
  partial matrix sends only its computed cells (a bit mask says which), a symmetric one only its upper triangle.
  Labels go as escaped strings, once per feature; the hover wording as templates (:mod:`._hover`); the focus
  chart's bars and titles as :func:`.word_focus.report_data` chose and wrote them. The report's script
  (``report.js``) only lays these out: it fills the templates and picks the numbers, it formats none.
* :func:`merge_themes`: the light and dark builds of a figure merged into one tree; where they differ (colours),
  a ``{"__ihTheme": {"light": ..., "dark": ...}}`` node holds both and the script picks one, so switching themes
  needs no second copy of the figure.

Nothing here holds NaN: unknown cells are left out (never written as 0), and JSON is written with
``allow_nan=False``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.io as pio

from . import matrix, word_focus
from ._hover import TEMPLATES
from ._numbers import ALPHABET, encode_matrix, encode_values
from .escape import json_for_script
from .format import hover_label, known_cells, word_labels
from .matrix import NOT_COMPUTED
from .theme import THEMES

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..results.explanation import Explanation

__all__ = ["THEME_KEY", "merge_themes", "resolve_theme", "themed_figure", "report_data", "payload_json"]

THEME_KEY = "__ihTheme"
"""Key of a node holding a value per theme (plotly attribute names never start with an underscore)."""


def report_data(expl: Explanation) -> dict[str, Any] | None:
    """The data the report's script draws the matrix, the focus chart and the arcs' markers from (None without
    interactions). Every number in it is written by Python, as the texts the views show (:mod:`._numbers`):

    * ``n`` (W); ``alphabet``: how the texts are packed (:data:`._numbers.ALPHABET`);
    * ``ticks`` (``"word [i]"``, shortened: axes and bar categories) and ``labels`` (whole words, long ones
      wrapped: hover), escaped for plotly (:func:`.escape.plotly_text`);
    * ``attributions``: ``(W,)``, :func:`._numbers.encode_values`; ``matrix``: the known cells and the pairs'
      totals, :func:`._numbers.encode_matrix` (output units);
    * ``vmax``, ``orders``: :func:`.matrix.report_data`; ``focus``: :func:`.word_focus.report_data`;
    * ``templates``: the hover templates (:data:`._hover.TEMPLATES`); ``notComputed``: an unknown cell's value;
    * ``palettes``: each theme's ``positive`` / ``negative`` (bar colour by sign) and ``foreground`` (outline)."""
    if expl.interactions is None:
        return None
    n = len(expl.words)
    return {
        "n": n,
        "alphabet": ALPHABET,
        "ticks": word_labels(expl),
        "labels": [hover_label(expl, i) for i in range(n)],
        "attributions": encode_values(expl.attributions),
        "matrix": encode_matrix(np.asarray(expl.interactions, dtype=np.float64), known_cells(expl)),
        **matrix.report_data(expl),
        "focus": word_focus.report_data(expl),
        "templates": TEMPLATES,
        "notComputed": NOT_COMPUTED,
        "palettes": {
            name: {"positive": p.positive, "negative": p.negative, "foreground": p.foreground}
            for name, p in THEMES.items()
        },
    }


def merge_themes(variants: dict[str, Any]) -> Any:
    """One tree for several themes' versions of the same JSON value (same structure, different colours):
    equal parts once, differing leaves (or lists of scalars) as ``{THEME_KEY: {theme: value}}``."""
    names, values = list(variants), list(variants.values())
    first = values[0]
    if all(v == first and type(v) is type(first) for v in values[1:]):
        return first
    if all(isinstance(v, dict) for v in values) and all(v.keys() == first.keys() for v in values[1:]):
        return {key: merge_themes({name: v[key] for name, v in zip(names, values)}) for key in first}
    if all(isinstance(v, list) and len(v) == len(first) for v in values) and any(
        isinstance(item, (dict, list)) for item in first
    ):
        return [merge_themes({name: v[k] for name, v in zip(names, values)}) for k in range(len(first))]
    return {THEME_KEY: dict(zip(names, values))}


def resolve_theme(tree: Any, theme: str) -> Any:
    """The value of a :func:`merge_themes` tree for one theme (what the report's script does in the browser)."""
    if isinstance(tree, list):
        return [resolve_theme(item, theme) for item in tree]
    if isinstance(tree, dict):
        if THEME_KEY in tree:
            return resolve_theme(tree[THEME_KEY][theme], theme)
        return {key: resolve_theme(value, theme) for key, value in tree.items()}
    return tree


def themed_figure(build: Callable[[str], go.Figure]) -> Any:
    """``build(theme)`` for every theme, as JSON merged by :func:`merge_themes`."""
    return merge_themes({theme: json.loads(pio.to_json(build(theme), validate=False)) for theme in THEMES})


def payload_json(obj: Any) -> str:
    """``obj`` as JSON safe for an inline ``<script>``; refuses NaN and infinities (never written silently)."""
    return json_for_script(obj, allow_nan=False)
