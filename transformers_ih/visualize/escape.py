"""Escaping of user-supplied text (words, text, labels) for the three places it ends up (public: the tabular
views use it too).

* HTML text and attribute values: :func:`html_text` (``html.escape(..., quote=True)``).
* Strings plotly.js renders (hover text, tick labels, titles, annotations): :func:`plotly_text`. plotly.js
  parses a small HTML-like markup in those strings (``<b>``, ``<br>``, ``<a href>``...) and decodes only a few
  named entities (``&lt;`` ``&gt;`` ``&amp;``) and numeric ones, so quotes are written as numeric entities.
* JSON embedded in an inline ``<script>``: :func:`json_for_script` (``<``, ``>``, ``&`` as ``\\u00XX``, so no
  string can close the script element or open a comment).
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["html_text", "plotly_text", "json_for_script"]

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def html_text(value: Any) -> str:
    """``str(value)`` escaped for HTML text and (double- or single-quoted) attribute values."""
    return html.escape(str(value), quote=True)


def plotly_text(value: Any) -> str:
    """``str(value)`` escaped so plotly.js shows it literally (no markup, no ``%{...}`` templates are read from
    data strings). ``&quot;`` is not among the entities plotly decodes, so ``"`` becomes ``&#34;``."""
    return html_text(value).replace("&quot;", "&#34;")


def _make_script_safe(json_text: str) -> str:
    for char, replacement in _SCRIPT_UNSAFE.items():
        json_text = json_text.replace(char, replacement)
    return json_text


def json_for_script(obj: Any, *, allow_nan: bool = True) -> str:
    """``json.dumps(obj)`` made safe to paste into an inline ``<script>`` element (``allow_nan=False``: NaN and
    infinities raise ``ValueError`` instead of becoming the non-JSON ``NaN``)."""
    return _make_script_safe(json.dumps(obj, allow_nan=allow_nan))
