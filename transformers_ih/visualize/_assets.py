"""The report's stylesheet, generated from the palettes in :mod:`.theme` (one source of colours), and its script
(``report.js``, package data, inlined: the report stays one offline file).

Theme choice: the report's script sets ``data-ih-theme="light|dark"`` on the report element (JupyterLab's
``data-jp-theme-light`` and VS Code's ``vscode-dark`` body markers first, then ``prefers-color-scheme``) and
draws the figures built for that theme; the stylesheet follows the same attribute, and falls back to the
``prefers-color-scheme`` media query when scripts do not run (e.g. an untrusted notebook)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from plotly.offline import get_plotlyjs

from ._ids import element_id
from .escape import html_text, json_for_script
from .theme import THEMES, Palette

__all__ = ["report_css", "report_js", "render_script", "report_page", "PLOTLY_CONFIG"]

PLOTLY_CONFIG = {"responsive": True, "displaylogo": False, "modeBarButtonsToRemove": ["sendDataToCloud"]}
"""plotly's options for every chart of a report."""


def _variables(p: Palette) -> str:
    stops = ", ".join(f"{color} {pos * 100:g}%" for pos, color in p.diverging)
    return (
        f"--ih-bg:{p.background};--ih-surface:{p.surface};--ih-fg:{p.foreground};--ih-muted:{p.muted};"
        f"--ih-border:{p.border};--ih-gradient:linear-gradient(90deg, {stops});color-scheme:{p.name};"
    )


_WORD_COLORS = ".ih-report{sel} .ih-w{{background:var(--ih-bg-{name});color:var(--ih-fg-{name});}}"

_STATIC_CSS = """
.ih-report{box-sizing:border-box;max-width:1100px;margin:0 auto;padding:18px 22px;border-radius:10px;
  background:var(--ih-bg);color:var(--ih-fg);
  font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Arial,sans-serif;
  line-height:1.5;text-align:left;}
.ih-report *{box-sizing:border-box;}
.ih-report .ih-kicker{margin:0;color:var(--ih-muted);font-size:.78rem;letter-spacing:.06em;text-transform:uppercase;}
.ih-report h1.ih-title{margin:.1rem 0 .6rem;font-size:1.35rem;line-height:1.3;color:var(--ih-fg);}
.ih-report h2.ih-h{margin:1.6rem 0 .2rem;font-size:1.08rem;color:var(--ih-fg);border:0;padding:0;}
.ih-report p.ih-note{margin:0 0 .5rem;color:var(--ih-muted);font-size:.88rem;}
.ih-report dl.ih-facts{display:flex;flex-wrap:wrap;gap:.45rem .55rem;margin:.4rem 0 1rem;padding:0;}
.ih-report .ih-fact{background:var(--ih-surface);border:1px solid var(--ih-border);border-radius:6px;
  padding:.2rem .65rem;}
.ih-report .ih-fact dt{margin:0;padding:0;font-size:.7rem;font-weight:400;letter-spacing:.05em;text-transform:uppercase;
  color:var(--ih-muted);}
.ih-report .ih-fact dd{margin:0;padding:0;font-weight:600;font-variant-numeric:tabular-nums;}
.ih-report .ih-text{font-size:1.15rem;line-height:2.2;white-space:pre-wrap;overflow-wrap:anywhere;padding:.6rem 1rem;
  border:1px solid var(--ih-border);border-radius:8px;background:var(--ih-bg);}
.ih-report .ih-w{position:relative;border-radius:4px;padding:.14em .22em;
  -webkit-box-decoration-break:clone;box-decoration-break:clone;
  outline-offset:1px;cursor:default;}
.ih-report .ih-w:hover,.ih-report .ih-w:focus{outline:2px solid var(--ih-fg);}
.ih-report .ih-w:hover::after,.ih-report .ih-w:focus::after{content:attr(data-ih-tip);
  position:absolute;left:0;top:100%;z-index:20;
  margin-top:6px;padding:.3rem .55rem;border-radius:5px;white-space:normal;width:max-content;max-width:min(28rem,80vw);
  overflow-wrap:anywhere;font-size:.8rem;line-height:1.3;font-weight:500;background:var(--ih-fg);color:var(--ih-bg);
  pointer-events:none;}
.ih-report .ih-sep{color:var(--ih-muted);}
.ih-report .ih-legend{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:.45rem 0 0;font-size:.8rem;
  color:var(--ih-muted);
  font-variant-numeric:tabular-nums;}
.ih-report .ih-legend-bar{display:inline-block;width:170px;height:10px;border-radius:5px;background:var(--ih-gradient);
  border:1px solid var(--ih-border);}
.ih-report .ih-figure{width:100%;min-height:120px;}
.ih-report table.ih-check{border-collapse:collapse;margin:.2rem 0 .6rem;font-size:.85rem;
  font-variant-numeric:tabular-nums;}
.ih-report table.ih-check th,.ih-report table.ih-check td{padding:.12rem .6rem;border-bottom:1px solid var(--ih-border);
  text-align:right;}
.ih-report table.ih-check th:first-child,.ih-report table.ih-check td:first-child{text-align:left;}
.ih-report .ih-error{color:var(--ih-fg);background:var(--ih-surface);border-left:4px solid #d73a49;padding:.4rem .7rem;}
.ih-report .ih-error:empty{display:none;}
"""


def report_css() -> str:
    """The stylesheet of a report (light by default; dark under ``data-ih-theme="dark"``, or under
    ``prefers-color-scheme: dark`` unless the script chose light). Scoped to ``.ih-report``."""
    light, dark = THEMES["light"], THEMES["dark"]
    auto_dark = '.ih-report:not([data-ih-theme="light"])'
    forced_dark = '.ih-report[data-ih-theme="dark"]'
    return "\n".join(
        [
            f".ih-report{{{_variables(light)}}}",
            _WORD_COLORS.format(sel="", name="light"),
            f"@media (prefers-color-scheme: dark){{{auto_dark}{{{_variables(dark)}}}",
            _WORD_COLORS.format(sel=':not([data-ih-theme="light"])', name="dark") + "}",
            f"{forced_dark}{{{_variables(dark)}}}",
            _WORD_COLORS.format(sel='[data-ih-theme="dark"]', name="dark"),
            _STATIC_CSS,
        ]
    )


def page_css() -> str:
    """Extra rules for a full HTML document: the page background follows the theme."""
    return (
        "html{color-scheme:light dark;}"
        f"body.ih-page{{margin:0;padding:24px 12px;background:{THEMES['light'].background};}}"
        f"@media (prefers-color-scheme: dark){{body.ih-page{{background:{THEMES['dark'].background};}}}}"
    )


@lru_cache(maxsize=1)
def report_js() -> str:
    """The report's browser code: ``report.js`` of this package, which defines ``drawReport(reportId, figures,
    data, config)`` (its header says what each argument holds). It holds no ``</`` nor ``<!--``, so it can be
    inlined in a ``<script>`` element as it is."""
    return resources.files(__package__).joinpath("report.js").read_text(encoding="utf-8")


def render_script(report_id_json: str, figures_json: str, config_json: str, data_json: str = "null") -> str:
    """The body of the report's drawing ``<script>``: :func:`report_js`, called with its arguments, in a closure
    (several reports share a page). Arguments are JSON already made safe for a script element
    (:func:`.escape.json_for_script`): ``figures_json`` maps element id -> ``{"figure": themes merged, "view":
    null | "matrix" | "word-focus" | "arcs"}``; ``data_json``: :func:`._payload.report_data` or ``null``. The
    script loads plotly.js from the report's ``<script type="text/plain">`` copy when ``window.Plotly`` is missing
    (notebook fragments), then draws every figure for the current theme and redraws on change. The JSON arguments
    stand one on a line each (``  var figures = ...;``), so tools and tests can read them back."""
    return (
        "(function () {\n"
        f"  var reportId = {report_id_json};\n"
        f"  var figures = {figures_json};\n"
        f"  var data = {data_json};\n"
        f"  var config = {config_json};\n"
        f"{report_js()}"
        "  drawReport(reportId, figures, data, config);\n"
        "})();"
    )


def report_page(
    report_id: str,
    body: str,
    figures_json: str,
    *,
    data_json: str = "null",
    extra_css: str = "",
    full_document: bool = True,
    title: str = "",
) -> str:
    """A report's HTML around its ``body`` (escaped already) and its figures (JSON for :func:`render_script`).

    ``full_document=True``: a complete page (``<!DOCTYPE html>``, ``title`` escaped here) with plotly.js inlined
    once in ``<head>``; opens offline. ``False``: a fragment for a notebook cell, with a ``text/plain`` copy of
    plotly.js that the script runs only when ``window.Plotly`` is missing (several fragments share one)."""
    script = render_script(json_for_script(report_id), figures_json, json_for_script(PLOTLY_CONFIG), data_json)
    css = report_css() + extra_css
    if not full_document:
        plotly_copy = f'<script type="text/plain" id="{element_id(report_id, "plotlyjs")}">{get_plotlyjs()}</script>'
        return f"<style>{css}</style>{body}{plotly_copy}<script>{script}</script>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{html_text(title)}</title><style>{page_css()}{css}</style>"
        f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};\n{get_plotlyjs()}</script>"
        f'</head><body class="ih-page">{body}<script>{script}</script></body></html>'
    )
