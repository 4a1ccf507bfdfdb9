"""README.md stays short (at most 250 lines: the rest lives in docs/) and every link and picture it has resolves:
a relative target is a file of the repository, and an ``#anchor`` names a heading of the page it points to (as
GitHub and MkDocs slug them)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def headings(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)}


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move the detail into docs/"


def test_every_readme_link_resolves():
    targets = LINK.findall(README.read_text(encoding="utf-8"))
    assert len(targets) >= 10, targets
    broken = []
    for target in targets:
        if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        page = (README.parent / path).resolve() if path else README
        if not page.is_file() or ROOT not in page.parents:
            broken.append(f"{target}: no such file in the repository")
        elif anchor and anchor not in headings(page):
            broken.append(f"{target}: no heading #{anchor} in {page.relative_to(ROOT)}")
    assert not broken, broken
