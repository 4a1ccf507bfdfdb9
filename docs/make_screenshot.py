"""Regenerate ``docs/images/report.png``: the HTML report of one explanation, as headless Chromium draws it.

    python docs/make_screenshot.py [--model PATH] [--text TEXT] [--height PIXELS]

Explains the text (default "this film is not bad at all") with the shared SST-2 DistilBERT
(``../shared/models/distilbert-mini-sst2``), writes the report with ``explanation.save_html``, opens it from a
``file://`` URL in the browser tests' headless Chromium (``.ci/install_browser.sh``; ``IH_CHROMIUM`` and
``IH_CHROMEDRIVER`` point elsewhere, as for ``tests/test_visualize_browser.py``) in the light theme, waits until
every chart is drawn and saves the top of the page. README.md and the docs' home page show the picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, installed or not
MODEL = ROOT.parent / "shared" / "models" / "distilbert-mini-sst2"
OUT = Path(__file__).resolve().parent / "images" / "report.png"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]  # fmt: skip


def executable(variable: str, default: str, *names: str) -> str:
    """``$variable``, else ``default`` when it exists, else the first of ``names`` on PATH (as the browser tests)."""
    found = os.environ.get(variable) or (default if Path(default).exists() else None)
    found = found or next((shutil.which(n) for n in names if shutil.which(n)), None)
    if not found:
        raise SystemExit(f"{variable}: no Chromium / chromedriver found; run `bash .ci/install_browser.sh`")
    return found


def explain(model_path: Path, text: str) -> str:
    """The report's HTML for ``text``."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from transformers_ih import SequenceClassificationInteractionExplainer

    model = AutoModelForSequenceClassification.from_pretrained(model_path)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    explanation = SequenceClassificationInteractionExplainer(model, tokenizer)(text)
    print(f"explained: {explanation.top_interactions(1)}, completeness error {explanation.completeness_error:.1e}")
    return explanation.to_html()


def screenshot(html: str, out: Path, width: int = 1100, height: int = 1250) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = executable("IH_CHROMIUM", "/usr/bin/chromium", "chromium", "chromium-browser")
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="ih-screenshot-") as tmp:
        options.add_argument(f"--user-data-dir={tmp}/profile")
        options.add_argument(f"--window-size={width},{height}")
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        driver = webdriver.Chrome(
            service=Service(executable("IH_CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")), options=options
        )
        try:
            driver.execute_cdp_cmd(
                "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "light"}]}
            )
            driver.get(page.as_uri())
            count = "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
            deadline, drawn = time.monotonic() + 60, -1
            while time.monotonic() < deadline:  # until the number of drawn charts stops growing
                time.sleep(1.0)
                now = driver.execute_script(count)
                if now and now == drawn:
                    break
                drawn = now
            else:
                raise SystemExit("the report's charts were not drawn within 60 s")
            out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--text", default="this film is not bad at all")
    parser.add_argument("--height", type=int, default=1250, help="the window's height: how much of the page")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    screenshot(explain(args.model, args.text), args.out, height=args.height)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
