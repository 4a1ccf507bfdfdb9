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
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from explanation_factory import XSS_WORDS, make_explanation
from optional import unavailable
from transformers_ih.visualize import report
from transformers_ih.visualize._colors import contrast_ratio
from transformers_ih.visualize._theme import THEMES

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
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,900",
]
RENDER_TIMEOUT_S = 30.0

# Installed before any page script runs: records uncaught errors and rejected promises.
ERROR_HOOK = """
window.__ihErrors = [];
window.addEventListener('error', function (e) { window.__ihErrors.push(String(e.message || e)); });
window.addEventListener('unhandledrejection', function (e) { window.__ihErrors.push('rejection: ' + String(e.reason)); });
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
        _unavailable("selenium is not installed", "install the test extra: pip install -e \".[test]\"")
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
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
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
        ["this", "film", *XSS_WORDS, "is", "not", "bad"], seed=11, target=XSS_WORDS[0],
        predicted_label=XSS_WORDS[1], smoothing=XSS_WORDS[2],
    )


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
        "var r = document.querySelector('.ih-report'); return [r.getAttribute('data-ih-theme'), getComputedStyle(r).backgroundColor]"
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
        "return gd.querySelector('.hoverlayer').textContent;", matrix, row,
    )
    assert XSS_WORDS[0] in hover_text and "exact" in hover_text
    assert browser.execute_script("return arguments[0].data[0].z[0][0]", matrix) is None
    browser.execute_script(
        "var buttons = arguments[0].querySelectorAll('.updatemenu-button');"
        "buttons[1].dispatchEvent(new MouseEvent('click', {bubbles: true}));", matrix,
    )
    time.sleep(0.5)
    assert browser.execute_script("return arguments[0].data[0].z[0][0]", matrix) is not None
    _assert_no_javascript_errors(browser)
    _assert_no_injection(browser)


def test_two_notebook_fragments_share_one_page(browser, tmp_path):
    """As in a notebook: two ``_repr_html_`` fragments in one page; ids do not clash, both draw."""
    first = make_explanation("this movie is not bad".split(), seed=1)
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
    _screenshot(browser, "notebook-two-fragments")
