"""MkDocs hooks (mkdocs.yml ``hooks:``), so that the nav and the included repository files need no hand upkeep.

* The "Gallery" section of the nav lists every ``docs/gallery/*.ipynb`` in name order (a new notebook appears
  without editing mkdocs.yml; an empty gallery drops the section).
* A page line ``--8<-- "PATH"`` includes the repository file ``PATH`` as it is (``docs/benchmarks.md`` includes
  ``BENCHMARKS.md``, which ``benchmarks/report.py`` generates); its relative links (to repository files, some of
  them not committed, such as a benchmark's HTML figure) become code spans naming the path, since the site holds
  only ``docs/`` and strict mode fails on a link it cannot resolve. A missing included file fails the build.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
_INCLUDE = re.compile(r'^--8<-- "([^"]+)"\s*$', re.M)
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def on_config(config, **kwargs):
    notebooks = sorted(p.relative_to(DOCS).as_posix() for p in (DOCS / "gallery").glob("*.ipynb"))
    nav = config["nav"] or []
    for i, entry in enumerate(nav):
        if isinstance(entry, dict) and "Gallery" in entry:
            if notebooks:
                index = ["gallery/index.md"] if (DOCS / "gallery" / "index.md").exists() else []
                entry["Gallery"] = index + notebooks
            else:
                del nav[i]
            break
    return config


def _repository_links(markdown: str) -> str:
    def link(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path = target.split("#", 1)[0]
        if "://" in target or not path or path.startswith(("/", "mailto:")):
            return match.group(0)
        return f"`{path}`" if text.strip("`") == path else f"{text} (`{path}` in the repository)"

    return _LINK.sub(link, markdown)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    def include(match: re.Match) -> str:
        path = ROOT / match.group(1)
        if not path.is_file():
            raise FileNotFoundError(f"{page.file.src_uri} includes {match.group(1)}, which is not in the repository")
        return _repository_links(path.read_text(encoding="utf-8"))

    return _INCLUDE.sub(include, markdown)
