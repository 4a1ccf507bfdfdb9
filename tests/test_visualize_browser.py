"""The HTML report in a real browser (headless Chromium through selenium): it renders offline from a
``file://`` URL with no JavaScript error and no network request, every chart is drawn, hostile words stay
text, the dark theme applies, two notebook fragments coexist on one page. Screenshots go to
``tests/artifacts/``.

Needs headless Chromium and its chromedriver (``bash .ci/install_browser.sh``: apt's ``chromium`` and
``chromium-driver`` in /usr/bin; elsewhere set ``IH_CHROMIUM`` and ``IH_CHROMEDRIVER`` to their paths, or put
``chromium`` and ``chromedriver`` on PATH) and ``selenium`` (the ``test`` extra). Without them the tests are skipped
with a reason saying what is missing and how to install it, except under ``CI`` where they fail."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from explanation_factory import (
    XSS_WORDS,
    long_words,
    make_explanation,
    make_partial,
    make_sentence_explanation,
    partial_rows,
)
from optional import unavailable

from transformers_ih import visualize
from transformers_ih.visualize import matrix as matrix_view
from transformers_ih.visualize import report
from transformers_ih.visualize._colors import contrast_ratio
from transformers_ih.visualize.format import known_cells, value_text, word_labels
from transformers_ih.visualize.matrix import (
    HIDE_DIAGONAL_LABEL,
    SHOW_DIAGONAL_LABEL,
    STRENGTH_ORDER_LABEL,
    TEXT_ORDER_LABEL,
    feature_order,
)
from transformers_ih.visualize.theme import THEMES

pytestmark = pytest.mark.browser


def _executable(variable: str, default: str, *names: str) -> Path | None:
    """``$variable`` when set, else ``default`` when it exists, else the first of ``names`` on PATH."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    if Path(default).exists():
        return Path(default)
    found = next((shutil.which(name) for name in names if shutil.which(name)), None)
    return Path(found) if found else None


CHROMIUM = _executable("IH_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser")
CHROMEDRIVER = _executable("IH_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
INSTALL_HINT = (
    "install it with `bash .ci/install_browser.sh` (Debian/Ubuntu: apt-get install chromium chromium-driver), "
    "or set IH_CHROMIUM and IH_CHROMEDRIVER to a Chromium and its matching chromedriver"
)

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1200,900",
]
RENDER_TIMEOUT_S = 30.0

# Installed before any page script runs: records uncaught errors and rejected promises.
ERROR_HOOK = """
window.__ihErrors = [];
window.addEventListener('error', function (e) { window.__ihErrors.push(String(e.message || e)); });
window.addEventListener('unhandledrejection', function (e) {
  window.__ihErrors.push('rejection: ' + String(e.reason));
});
"""


def _unavailable(reason: str, hint: str = INSTALL_HINT) -> None:
    """Skip (outside CI) or fail (CI set) the browser tests, saying what is missing and how to install it."""
    unavailable(f"browser tests cannot run: {reason}", hint)


def _missing_browser() -> str | None:
    """Why headless Chromium cannot be started, or None when both executables are there."""
    missing = [
        f"{what} not found ({path if path else 'not in /usr/bin or on PATH'})"
        for what, path in (("Chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER))
        if path is None or not path.exists()
    ]
    return ", ".join(missing) or None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with a fresh profile, browser and performance logs."""
    missing = _missing_browser()
    if missing:
        _unavailable(missing)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed", 'install the test extra: pip install -e ".[test]"')
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="ih-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    profile.cleanup()


def _open(driver, path: Path, color_scheme: str, expected_charts: int) -> None:
    """Load ``path`` with ``prefers-color-scheme`` emulated, and wait until ``expected_charts`` are drawn."""
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": color_scheme}]}
    )
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    while time.monotonic() < deadline:
        drawn = driver.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length")
        if drawn >= expected_charts:
            return
        time.sleep(0.2)
    pytest.fail(f"{path.name}: charts not drawn within {RENDER_TIMEOUT_S}s")


def _assert_no_javascript_errors(driver) -> None:
    hooked = driver.execute_script("return window.__ihErrors")
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert hooked == [] and severe == [], (hooked, severe)


def _assert_no_network_requests(driver) -> None:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    assert urls and all(re.match(r"(file|data|blob|about):", u) for u in urls), urls


def _assert_charts_drawn(driver, expected: int) -> None:
    sizes = driver.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot'))"
        ".map(function (e) { var r = e.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(sizes) == expected
    assert all(w > 100 and h > 100 for w, h in sizes), sizes


def _assert_no_injection(driver) -> None:
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    assert driver.execute_script("return document.querySelectorAll('img, .ih-report b').length") == 0


def _screenshot(driver, name: str) -> Path:
    """A full-page PNG (beyond the viewport, through the DevTools protocol) in ``tests/artifacts/``."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 12_000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000
    return path


def _rgb(css_color: str) -> str:
    """A CSS colour as ``"#rrggbb"`` (from ``"#rrggbb"`` or ``"rgb(r, g, b)"``)."""
    if css_color.startswith("#"):
        return css_color.lower()
    r, g, b = (int(float(v)) for v in re.findall(r"[\d.]+", css_color)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _hostile_explanation():
    return make_explanation(
        ["this", "film", *XSS_WORDS, "is", "not", "bad"],
        seed=11,
        target=XSS_WORDS[0],
        predicted_label=XSS_WORDS[1],
        smoothing=XSS_WORDS[2],
    )


def _edge_explanation():
    """Values JavaScript would write differently from Python: ties at the 4th decimal (Python rounds half to
    even), tiny and huge exponents, negative zero, the classic 0.1 + 0.2. The page shows the texts Python wrote."""
    e = make_explanation(["a", "b", "c", "d", "e", "f", "g"], seed=3)
    values = [
        0.03125,
        -0.09375,
        1e-05,
        -1.5e-07,
        123456789.0,
        1e16,
        -0.0,
        0.1 + 0.2,
        5e-324,
        2.5e-05,
        1.03125,
        -1e-4,
        0.00015,
        12345.678,
        1e22,
        -3.0,
    ]
    m = e.interactions.copy()
    for (i, j), v in zip(zip(*np.triu_indices(7, k=1)), values):
        m[i, j] = m[j, i] = v
    e.interactions = m
    return e


@pytest.fixture(scope="module")
def saved_report(tmp_path_factory):
    return _hostile_explanation().save_html(tmp_path_factory.mktemp("report") / "report.html")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_saved_report_renders_offline_in_chromium(browser, saved_report, color_scheme):
    charts = len(report.FIGURE_NAMES)
    _open(browser, saved_report, color_scheme, charts)
    _assert_no_javascript_errors(browser)
    _assert_no_network_requests(browser)
    _assert_charts_drawn(browser, charts)
    _assert_no_injection(browser)
    word_texts = browser.execute_script("return Array.from(document.querySelectorAll('.ih-w')).map(e => e.textContent)")
    assert word_texts == _hostile_explanation().words  # shown literally, as text
    _screenshot(browser, f"report-{color_scheme}")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_theme_follows_the_colour_scheme_with_readable_words(browser, saved_report, color_scheme):
    _open(browser, saved_report, color_scheme, len(report.FIGURE_NAMES))
    palette = THEMES[color_scheme]
    theme, background = browser.execute_script(
        "var r = document.querySelector('.ih-report');"
        "return [r.getAttribute('data-ih-theme'), getComputedStyle(r).backgroundColor]"
    )
    assert theme == color_scheme and _rgb(background) == palette.background
    paper = browser.execute_script("return document.querySelector('.js-plotly-plot')._fullLayout.paper_bgcolor")
    assert _rgb(paper) == palette.background
    colours = browser.execute_script(
        "return Array.from(document.querySelectorAll('.ih-w')).map(function (e) {"
        " var s = getComputedStyle(e); return [s.backgroundColor, s.color]; })"
    )
    ratios = [contrast_ratio(_rgb(bg), _rgb(fg)) for bg, fg in colours]
    assert min(ratios) >= 4.5, ratios


def test_hover_shows_hostile_words_as_text_and_the_diagonal_toggles(browser, saved_report):
    _open(browser, saved_report, "light", len(report.FIGURE_NAMES))
    matrix = browser.execute_script("return document.querySelector('[id$=\"-matrix\"]')")
    row = 2  # the "<script>" word
    hover_text = browser.execute_script(
        "var gd = arguments[0]; Plotly.Fx.hover(gd, {xval: 0, yval: arguments[1]});"
        "return gd.querySelector('.hoverlayer').textContent;",
        matrix,
        row,
    )
    assert XSS_WORDS[0] in hover_text and "exact" in hover_text
    assert browser.execute_script("return arguments[0].data[0].z[0][0]", matrix) is None
    browser.execute_script(
        "var buttons = arguments[0].querySelectorAll('.updatemenu-button');"
        "buttons[1].dispatchEvent(new MouseEvent('click', {bubbles: true}));",
        matrix,
    )
    time.sleep(0.5)
    assert browser.execute_script("return arguments[0].data[0].z[0][0]", matrix) is not None
    _assert_no_javascript_errors(browser)
    _assert_no_injection(browser)


def test_two_notebook_fragments_share_one_page(browser, tmp_path):
    """As in a notebook: two ``_repr_html_`` fragments in one page; ids do not clash, both draw."""
    first = _edge_explanation()
    second = _hostile_explanation()
    page = tmp_path / "notebook.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<div class='cell'>{first._repr_html_()}</div><div class='cell'>{second._repr_html_()}</div></body></html>",
        encoding="utf-8",
    )
    charts = 2 * len(report.FIGURE_NAMES)
    _open(browser, page, "light", charts)
    _assert_no_javascript_errors(browser)
    _assert_no_network_requests(browser)
    _assert_charts_drawn(browser, charts)
    _assert_no_injection(browser)
    roots = browser.execute_script("return Array.from(document.querySelectorAll('.ih-report')).map(e => e.id)")
    assert len(roots) == 2 and roots[0] != roots[1]
    # hover text laid out by the script from Python's texts equals Python's, also for numbers JavaScript writes
    # differently
    matrix = browser.execute_script("return document.querySelectorAll('[id$=\"-matrix\"]')[0]")
    drawn = browser.execute_script("return arguments[0].data[0].text", matrix)
    assert drawn == list(map(list, visualize.plot_interactions(first).data[0].text))
    _screenshot(browser, "notebook-two-fragments")


# ---------------------------------------------------------------- long inputs and partial matrices (issue 16)
HOSTILE_AT = {5: XSS_WORDS[0], 77: XSS_WORDS[1], 150: XSS_WORDS[4]}
"""Positions in the long texts that hold a hostile word (escaped everywhere, also in hover text)."""


def _long_explanation(n_words: int, rows: int | None = None):
    words = long_words(n_words)
    for position, word in HOSTILE_AT.items():
        words[position] = word
    e = make_explanation(words, seed=n_words)
    return e if rows is None else make_partial(e, sorted({*partial_rows(e, rows - 1), 5}))


@pytest.fixture(scope="module")
def long_reports(tmp_path_factory):
    """A 200-word report with the full matrix and a 400-word one with 16 exact rows (one of them a hostile word)."""
    folder = tmp_path_factory.mktemp("long")
    made = {"full-200": _long_explanation(200), "partial-400": _long_explanation(400, rows=16)}
    return {name: (e, e.save_html(folder / f"{name}.html")) for name, e in made.items()}


def _figure(driver, name: str):
    return driver.execute_script(f"return document.querySelector('[id$=\"-{name}\"]')")


def _hover(driver, figure, column: int, row: int) -> str:
    time.sleep(0.06)  # plotly.js throttles hover events (50 ms)
    return driver.execute_script(
        "var gd = arguments[0]; Plotly.Fx.hover(gd, {xval: arguments[1], yval: arguments[2]});"
        "return gd.querySelector('.hoverlayer').textContent;",
        figure,
        column,
        row,
    )


def _click(driver, figure, selector: str, index: int) -> None:
    driver.execute_script(
        "arguments[0].querySelectorAll(arguments[1])[arguments[2]]"
        ".dispatchEvent(new MouseEvent('click', {bubbles: true}));",
        figure,
        selector,
        index,
    )
    time.sleep(0.1)


def _rows_drawn(driver, figure, rows: list[int], trace: int = 0) -> dict:
    """``x`` and rows ``rows`` of the ``z`` and ``text`` the script gave a heatmap trace (not the whole matrix)."""
    return driver.execute_script(
        "var t = arguments[0].data[arguments[2]];"
        "return {x: t.x, z: arguments[1].map(r => t.z[r]), text: arguments[1].map(r => t.text[r])};",
        figure,
        rows,
        trace,
    )


def _assert_matrix_drawn_as_python(driver, figure, e, order: str, show_diagonal: bool = False) -> None:
    """The cells, labels and hover text the browser built equal the Python view's (``plot_interactions``'s own
    functions, on a sample of rows: the whole figure of 400 words takes seconds to build in Python)."""
    n = len(e.words)
    positions = feature_order(e, order)
    rows = sorted({0, 1, n // 2, n - 1, *range(0, n, max(1, n // 6))})
    known = known_cells(e)
    drawn = _rows_drawn(driver, figure, rows)
    assert drawn["x"] == [word_labels(e)[i] for i in positions]
    shown = matrix_view._shown(e, known, hide_diagonal=not show_diagonal)
    assert drawn["z"] == [
        [None if np.isnan(shown[positions[r], j]) else float(shown[positions[r], j]) for j in positions] for r in rows
    ]  # unknown and hidden cells: gaps, never 0
    expected = matrix_view._hover_texts(e, known, [positions[r] for r in rows], positions)
    assert [[html.unescape(t) for t in row] for row in drawn["text"]] == [
        [html.unescape(t) for t in row] for row in expected
    ]
    if not known.all():  # the "not computed" trace
        unknown = _rows_drawn(driver, figure, rows, trace=1)
        assert unknown["z"] == [[None if known[positions[r], j] else 1 for j in positions] for r in rows]


@pytest.mark.parametrize("name", ["full-200", "partial-400"])
def test_long_report_renders_offline_with_browser_built_hover(browser, long_reports, name):
    e, path = long_reports[name]
    charts = len(report.FIGURE_NAMES)
    _open(browser, path, "light", charts)
    _assert_no_javascript_errors(browser)
    _assert_no_network_requests(browser)
    _assert_charts_drawn(browser, charts)
    _assert_no_injection(browser)
    matrix = _figure(browser, "matrix")
    partial = name.startswith("partial")
    order = feature_order(e, "strength" if partial else "text")
    _assert_matrix_drawn_as_python(browser, matrix, e, "strength" if partial else "text")
    ticks = browser.execute_script("return arguments[0].querySelectorAll('g.xtick').length", matrix)
    assert 10 < ticks < len(e.words) // 2, ticks  # tick labels thinned (zoom in for more)
    row = order.index(5)  # the "<script>" word, an exact row in the partial matrix
    column = order.index(77)
    hover = _hover(browser, matrix, column, row)
    assert XSS_WORDS[0] in hover and XSS_WORDS[1] in hover  # shown as text
    assert html.unescape(value_text(e.interactions[5, 77])) in hover
    if partial:
        unknown = next(c for c in range(400) if not e.computed[order[1 + 16], order[c]])
        assert "not computed" in _hover(browser, matrix, unknown, 1 + 16)
    # the focus chart, drawn in the browser, equals the Python view for the shown word
    focus = _figure(browser, "word-focus")
    shown = visualize.plot_word_focus(e)
    drawn = browser.execute_script(
        "var t = arguments[0].data[0]; return [t.x, t.y, t.hovertext, arguments[0].layout.title.text]", focus
    )
    assert drawn[:2] == [list(shown.data[0].x), list(shown.data[0].y)]
    assert [html.unescape(h) for h in drawn[2]] == [html.unescape(h) for h in shown.data[0].hovertext]
    assert drawn[3] == shown.layout.title.text
    assert browser.execute_script("return arguments[0].layout.updatemenus[0].buttons.length", focus) == (
        16 if partial else 200
    )  # a partial matrix offers its exact rows only
    _assert_no_javascript_errors(browser)
    _assert_no_injection(browser)
    if partial:
        _screenshot(browser, "report-long-partial-400")
    else:  # the same page (one load less): its switches
        _assert_switches_order_diagonal_focus_and_theme(browser, e)


def _assert_switches_order_diagonal_focus_and_theme(browser, e):
    """Order and diagonal switches, the focus menu and a live theme change redraw from the data, and keep the
    choices made."""
    matrix = _figure(browser, "matrix")
    buttons = browser.execute_script(
        "return Array.from(arguments[0].querySelectorAll('.updatemenu-button')).map(b => b.textContent)", matrix
    )
    assert buttons == [HIDE_DIAGONAL_LABEL, SHOW_DIAGONAL_LABEL, TEXT_ORDER_LABEL, STRENGTH_ORDER_LABEL]
    _click(browser, matrix, ".updatemenu-button", 3)  # strongest first
    _assert_matrix_drawn_as_python(browser, matrix, e, "strength")
    _click(browser, matrix, ".updatemenu-button", 1)  # show the diagonal: the order stays
    _assert_matrix_drawn_as_python(browser, matrix, e, "strength", show_diagonal=True)
    # the focus menu: pick another word, drawn as the Python view draws it
    focus = _figure(browser, "word-focus")
    _click(browser, focus, ".updatemenu-header", 0)
    _click(browser, focus, ".updatemenu-dropdown-button", 150)
    drawn = browser.execute_script(
        "var t = arguments[0].data[0]; return [t.x, t.y, arguments[0].layout.title.text]", focus
    )
    reference = visualize.plot_word_focus(e, 150)
    assert drawn == [list(reference.data[0].x), list(reference.data[0].y), reference.layout.title.text]
    assert sum(drawn[1]) == pytest.approx(e.attributions[150], abs=1e-12)
    # the theme changes live: figures redrawn in the dark palette, the choices kept, no second copy of the data
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    )
    deadline = time.monotonic() + 10
    while browser.execute_script("return document.querySelector('.ih-report').getAttribute('data-ih-theme')") != "dark":
        assert time.monotonic() < deadline, "the report did not switch to the dark theme"
        time.sleep(0.1)
    paper = browser.execute_script("return arguments[0]._fullLayout.paper_bgcolor", matrix)
    assert _rgb(paper) == THEMES["dark"].background
    _assert_matrix_drawn_as_python(browser, matrix, e, "strength", show_diagonal=True)
    assert browser.execute_script("return arguments[0].layout.title.text", focus) == reference.layout.title.text
    assert browser.execute_script("return arguments[0].data[0].marker.color[0]", focus) in (
        THEMES["dark"].positive,
        THEMES["dark"].negative,
    )
    _assert_no_javascript_errors(browser)


def test_long_sentences_wrap_and_their_tips_stay_on_screen(browser, tmp_path):
    """A 40-sentence explanation (sentence features): every sentence wraps inside the text box, hover tips stay
    narrower than it, the charts are drawn."""
    sentences = make_sentence_explanation(40, words_per_sentence=14)
    path = sentences.save_html(tmp_path / "sentences.html")
    charts = len(report.FIGURE_NAMES)
    _open(browser, path, "light", charts)
    _assert_no_javascript_errors(browser)
    _assert_no_network_requests(browser)
    _assert_charts_drawn(browser, charts)
    box, pieces = browser.execute_script(
        "var text = document.querySelector('.ih-text'), r = text.getBoundingClientRect();"
        "var pieces = Array.from(text.querySelectorAll('.ih-w')).map(function (w) {"
        "  return Array.from(w.getClientRects()).map(q => [q.left, q.right]); });"
        "return [[r.left, r.right], pieces];"
    )
    assert len(pieces) == 40 and sum(len(p) > 1 for p in pieces) > 10  # long sentences wrap over lines
    assert all(box[0] - 1 <= left and right <= box[1] + 1 for p in pieces for left, right in p)
    assert "Each sentence coloured" in browser.page_source or getattr(sentences, "level", "word") == "word"
    from selenium.webdriver.common.action_chains import ActionChains

    span = browser.execute_script("return document.querySelectorAll('.ih-w')[3]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", span)
    ActionChains(browser).move_to_element(span).perform()
    tip_width = browser.execute_script("return parseFloat(getComputedStyle(arguments[0], '::after').width)", span)
    assert 50 < tip_width <= box[1] - box[0], tip_width
    _assert_no_javascript_errors(browser)


@pytest.fixture(scope="module")
def saved_corpus_report(tmp_path_factory):
    """A corpus report (three charts: pairs, partners, a comparison) over explanations holding hostile words."""
    from transformers_ih import CorpusInteractions

    texts = [
        ["this", "film", *XSS_WORDS, "is", "not", "bad"],
        ["not", "bad", "at", "all", XSS_WORDS[0]],
        ["a", "bad", "film", ",", "not", "good"],
    ]
    ours = CorpusInteractions.from_explanations([make_explanation(w, seed=s) for s, w in enumerate(texts)])
    other = CorpusInteractions.from_explanations([make_explanation(w, seed=s + 7) for s, w in enumerate(texts)])
    return ours.save_html(
        tmp_path_factory.mktemp("corpus") / "corpus.html", min_count=1, compare=ours.compare(other), title=XSS_WORDS[0]
    )


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_corpus_report_renders_offline_on_the_report_theme(browser, saved_corpus_report, color_scheme):
    _open(browser, saved_corpus_report, color_scheme, 3)
    _assert_no_javascript_errors(browser)
    _assert_no_network_requests(browser)
    _assert_charts_drawn(browser, 3)
    _assert_no_injection(browser)
    palette = THEMES[color_scheme]
    theme, background, paper = browser.execute_script(
        "var r = document.querySelector('.ih-report'); return [r.getAttribute('data-ih-theme'),"
        " getComputedStyle(r).backgroundColor, document.querySelector('.js-plotly-plot')._fullLayout.paper_bgcolor]"
    )
    assert theme == color_scheme and _rgb(background) == palette.background and _rgb(paper) == palette.background
    assert browser.title == XSS_WORDS[0]  # the title is text, escaped
    examples = browser.execute_script("return document.querySelector('.ih-report').textContent")
    assert XSS_WORDS[0] in examples  # hostile words shown literally in the example sentences
    _screenshot(browser, f"corpus-report-{color_scheme}")
