"""What a report carries to the browser: one copy of the numbers, and each figure once for every theme.

* :func:`report_data`: the explanation's numbers (attributions, the interaction matrix) as little-endian float64
  in base64, exact and about 11 characters a number; a partial matrix sends only its computed cells (a bit mask
  says which), a symmetric one only its upper triangle. Labels go as escaped strings, once per feature. The
  report's script (:mod:`._script`) builds the matrix cells, the focus bars and every hover text from them.
* :func:`merge_themes`: the light and dark builds of a figure merged into one tree; where they differ (colours),
  a ``{"__ihTheme": {"light": ..., "dark": ...}}`` node holds both and the script picks one, so switching themes
  needs no second copy of the figure.

Nothing here holds NaN: unknown cells are left out (never written as 0), and JSON is written with
``allow_nan=False``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.io as pio

from ._escape import json_for_script, plotly_text
from ._format import TICK_CHARS, feature_noun, hover_label, known_cells, word_labels, word_text
from ._theme import THEMES
from .matrix import NOT_COMPUTED, feature_order
from .word_focus import FOCUS_BARS, focus_rows

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..results.explanation import Explanation

__all__ = ["THEME_KEY", "merge_themes", "resolve_theme", "themed_figure", "encode_floats", "decode_floats", "encode_matrix",
           "decode_matrix", "report_data", "payload_json"]

THEME_KEY = "__ihTheme"
"""Key of a node holding a value per theme (plotly attribute names never start with an underscore)."""


def encode_floats(values: np.ndarray) -> str:
    """``values`` as little-endian float64 bytes in base64 (exact; NaN would survive, but none is sent)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def decode_floats(text: str) -> np.ndarray:
    """Inverse of :func:`encode_floats`."""
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(np.float64)


def encode_matrix(matrix: np.ndarray, known: np.ndarray) -> dict[str, Any]:
    """The known cells of a ``(W, W)`` matrix: ``{"n", "symmetric", "known", "values"}``. ``known`` is None when
    every cell is known, else the row-major mask as bits (``numpy.packbits``, most significant bit first) in
    base64; ``values`` holds the known cells in row-major order, only those with ``i <= j`` when ``symmetric``
    (the known cells and their values equal their transposes exactly)."""
    n = len(matrix)
    zeroed = np.where(known, matrix, 0.0)
    symmetric = bool(np.array_equal(known, known.T) and np.array_equal(zeroed, zeroed.T))
    cells = known & np.triu(np.ones((n, n), dtype=bool)) if symmetric else known
    return {
        "n": n,
        "symmetric": symmetric,
        "known": None if known.all() else base64.b64encode(np.packbits(known.ravel()).tobytes()).decode("ascii"),
        "values": encode_floats(matrix[cells]),
    }


def decode_matrix(spec: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_matrix`: the matrix with NaN in the unknown cells (what the script rebuilds)."""
    n = spec["n"]
    if spec["known"] is None:
        known = np.ones((n, n), dtype=bool)
    else:
        bits = np.unpackbits(np.frombuffer(base64.b64decode(spec["known"]), dtype=np.uint8))
        known = bits[: n * n].reshape(n, n).astype(bool)
    cells = known & np.triu(np.ones((n, n), dtype=bool)) if spec["symmetric"] else known
    matrix = np.full((n, n), np.nan)
    matrix[cells] = decode_floats(spec["values"])
    if spec["symmetric"]:
        lower = cells.T & ~np.eye(n, dtype=bool)
        matrix[lower] = matrix.T[lower]
    return matrix


def report_data(expl: "Explanation") -> dict[str, Any] | None:
    """The numbers and labels the report's script draws from (None without interactions). Labels are escaped
    for plotly (:func:`._escape.plotly_text`): ``ticks`` (``"word [i]"``, shortened), ``labels`` (whole words for
    hover, long ones wrapped), ``names`` (focus titles)."""
    if expl.interactions is None:
        return None
    n = len(expl.words)
    return {
        "n": n,
        "ticks": word_labels(expl),
        "labels": [hover_label(expl, i) for i in range(n)],
        "names": [word_text(expl, i, 2 * TICK_CHARS) for i in range(n)],
        "attributions": encode_floats(expl.attributions),
        "matrix": encode_matrix(np.asarray(expl.interactions, dtype=np.float64), known_cells(expl)),
        "orders": {"strength": feature_order(expl, "strength")},
        "focusRows": focus_rows(expl),
        "focusBars": FOCUS_BARS,
        "output": plotly_text(expl.output),
        "nouns": feature_noun(expl, plural=True),
        "notComputed": NOT_COMPUTED,
        "palettes": {name: {"positive": p.positive, "negative": p.negative, "foreground": p.foreground}
                     for name, p in THEMES.items()},
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
    if (all(isinstance(v, list) and len(v) == len(first) for v in values)
            and any(isinstance(item, (dict, list)) for item in first)):
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


def themed_figure(build: Callable[[str], "go.Figure"]) -> Any:
    """``build(theme)`` for every theme, as JSON merged by :func:`merge_themes`."""
    return merge_themes({theme: json.loads(pio.to_json(build(theme), validate=False)) for theme in THEMES})


def payload_json(obj: Any) -> str:
    """``obj`` as JSON safe for an inline ``<script>``; refuses NaN and infinities (never written silently)."""
    return json_for_script(obj, allow_nan=False)
