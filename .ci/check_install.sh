#!/usr/bin/env bash
# Packaging check (CI: .ci/run calls it after the tests). Two parts, both in fresh virtual environments created
# with `python -m venv`, outside the repository, so nothing from the source tree or the test setup leaks in:
#
#   wheel   python -m build (sdist, then the wheel built from that sdist); the wheel holds every file of the
#           package and the console script; a fresh venv with only `pip install torch==2.13.0 <wheel>` runs
#           `python -m transformers_ih --help`, `transformers-ih --help`, and one explanation of the shared SST-2
#           model that writes an HTML report: plotly.js inlined, no external script or stylesheet, and (when
#           headless Chromium is there) drawn offline, with every chart, by Chromium with all network blocked.
#   readme  the README's first command (Quick start), run as written from the repository root in another fresh
#           venv, with apt-get, apt and sudo replaced by stubs that fail: it must explain without them.
#
# Usage: bash .ci/check_install.sh [wheel|readme|all]   (default all). Env: PYTHON (default python) makes the
# venvs; IH_CHECK_DIR keeps the work directory (default: a temporary one, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PYTHON="${PYTHON:-python}"
PARTS="${1:-all}"
MODEL="$(cd "$ROOT/../shared/models/distilbert-mini-sst2" && pwd)"
TEXT="this film is not bad at all"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PIP_DISABLE_PIP_VERSION_CHECK=1

if [ -n "${IH_CHECK_DIR:-}" ]; then
    WORK="$IH_CHECK_DIR"; rm -rf "$WORK"; mkdir -p "$WORK"
else
    WORK="$(mktemp -d -t ih-check-XXXXXX)"; trap 'rm -rf "$WORK"' EXIT
fi
START=$SECONDS
step() { echo "== [$((SECONDS - START))s] $*"; }
under_ci() { case "$(echo "${CI:-}" | tr '[:upper:]' '[:lower:]')" in ""|0|false|no) return 1;; *) return 0;; esac; }

fresh_venv() {  # fresh_venv DIR: a new venv with the CPU torch pinned as in the README
    "$PYTHON" -m venv "$1"
    "$1/bin/python" -m pip install --quiet "torch==2.13.0"
}

check_wheel() {
    step "build: python -m build (sdist, then the wheel from the sdist)"
    "$PYTHON" -c "import build" 2>/dev/null || "$PYTHON" -m pip install --quiet "build>=1.2"
    "$PYTHON" -m build --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
    local wheel sdist
    wheel="$(ls "$WORK"/dist/transformers_ih-*.whl)"
    sdist="$(ls "$WORK"/dist/transformers_ih-*.tar.gz)"
    echo "built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB), $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB)"

    step "wheel contents: every file of transformers_ih/, the console script, the metadata"
    "$PYTHON" - "$wheel" "$ROOT" <<'EOF'
import sys, zipfile
from pathlib import Path

wheel, root = sys.argv[1], Path(sys.argv[2])
names = set(zipfile.ZipFile(wheel).namelist())
source = {
    p.relative_to(root).as_posix() for p in (root / "transformers_ih").rglob("*")
    if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
}
missing = sorted(source - names)
assert not missing, f"files of the package missing from the wheel: {missing}"
dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
assert "transformers-ih = transformers_ih.cli:main" in entry_points, entry_points
metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
for requirement in ("torch<3,>=2.4", "transformers<6,>=4.45", "plotly>=5.20"):
    assert f"Requires-Dist: {requirement}" in metadata, (requirement, metadata)
print(f"{len(source)} package files, all in the wheel; console script transformers-ih; requirements bounded")
EOF

    step "fresh venv: pip install torch==2.13.0, then the wheel only"
    fresh_venv "$WORK/venv"
    local vpy="$WORK/venv/bin/python"
    "$vpy" -m pip install --quiet "$wheel"
    "$vpy" -m pip check

    mkdir -p "$WORK/run" && cd "$WORK/run"  # not the repository: the package must come from the venv
    "$vpy" -c "import transformers_ih, sys; p = transformers_ih.__file__; print('imported from', p); assert p.startswith(sys.prefix), p"
    step "python -m transformers_ih --help; transformers-ih --help"
    "$vpy" -m transformers_ih --help >/dev/null
    "$WORK/venv/bin/transformers-ih" --help | head -3

    step "explain one sentence on the shared model, with --html and --json"
    "$vpy" -m transformers_ih "$TEXT" --model "$MODEL" --html report.html --json explanation.json | tee explain.log
    grep -q "top interacting pairs" explain.log

    step "the HTML report is self-contained: plotly.js inlined, nothing loaded from the network"
    "$vpy" - <<'EOF'
import re
from pathlib import Path

from plotly.offline import get_plotlyjs
from transformers_ih import Explanation

html = Path("report.html").read_text(encoding="utf-8")
assert get_plotlyjs() in html, "plotly.js (from the plotly package) is not inlined in the report"
assert not re.search(r"<script\b[^>]*\bsrc\s*=", html, re.I), "the report loads an external script"
assert not re.search(r"<link\b[^>]*\bhref\s*=\s*[\"']?(https?:)?//", html, re.I), "the report links an external resource"
explanation = Explanation.from_json("explanation.json")
assert explanation.words == "this film is not bad at all".split(), explanation.words
print(f"report.html: {len(html) // 1024} KiB, plotly.js inlined, no external script or link")
EOF

    local chromium="${IH_CHROMIUM:-}"
    if [ -z "$chromium" ]; then
        for candidate in /usr/bin/chromium "$(command -v chromium || true)" "$(command -v chromium-browser || true)"; do
            if [ -n "$candidate" ] && [ -x "$candidate" ]; then chromium="$candidate"; break; fi
        done
    fi
    if [ -z "$chromium" ]; then
        if under_ci; then echo "FAIL: headless Chromium not found (CI is set): bash .ci/install_browser.sh" >&2; exit 1; fi
        step "SKIPPED the offline rendering check: headless Chromium not found (bash .ci/install_browser.sh)"
    else
        step "render report.html offline in headless Chromium (all host names unresolvable)"
        local charts
        charts="$("$vpy" -c "from transformers_ih.visualize import report; print(len(report.FIGURE_NAMES))")"
        timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
            --disable-component-update --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$WORK/chromium-profile" \
            --virtual-time-budget=20000 --dump-dom "file://$WORK/run/report.html" >rendered.html 2>chromium.log \
            || { tail -20 chromium.log; exit 1; }
        "$vpy" - "$charts" <<'EOF'
import sys
from html.parser import HTMLParser
from pathlib import Path


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts, self.svgs, self.themes, self.errors, self._in_error = 0, 0, [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        self.charts += "js-plotly-plot" in classes
        self.svgs += "main-svg" in classes
        if "ih-report" in classes:
            self.themes.append(attrs.get("data-ih-theme"))
        self._in_error = "ih-error" in classes

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())

    def handle_endtag(self, tag):
        self._in_error = False


expected = int(sys.argv[1])
dom = Elements()
dom.feed(Path("rendered.html").read_text(encoding="utf-8"))
assert not dom.errors, dom.errors
assert dom.themes and all(t in ("light", "dark") for t in dom.themes), f"the report's script did not run: {dom.themes}"
assert dom.charts == expected and dom.svgs >= expected, f"{dom.charts} charts ({dom.svgs} svgs) drawn, expected {expected}"
print(f"Chromium drew all {dom.charts} charts offline ({dom.themes[0]} theme), no error shown")
EOF
    fi
    cd "$ROOT"
}

check_readme() {
    step "README quick start: the first command, as written, in a fresh venv, without apt or sudo"
    local command
    command="$("$PYTHON" - README.md <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text[text.index("## Quick start"):]
print(re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip())
EOF
)"
    echo "\$ $command"
    case "$command" in *apt*|*sudo*|*install.sh*|*install_browser*) echo "FAIL: the README's first command installs more than the package" >&2; exit 1;; esac
    mkdir -p "$WORK/stubs"
    for tool in apt-get apt sudo; do
        printf '#!/bin/sh\necho "%s called by the README'"'"'s first command: it must not need it" >&2\nexit 97\n' "$tool" >"$WORK/stubs/$tool"
        chmod +x "$WORK/stubs/$tool"
    done
    "$PYTHON" -m venv "$WORK/venv-readme"
    (
        export VIRTUAL_ENV="$WORK/venv-readme" PATH="$WORK/venv-readme/bin:$WORK/stubs:$PATH"
        hash -r
        bash -c "set -euo pipefail; $command" | tee "$WORK/readme.log"
    )
    grep -q "top interacting pairs" "$WORK/readme.log"
    (cd "$WORK" && "$WORK/venv-readme/bin/python" -c "import transformers_ih, sys; assert transformers_ih.__file__.startswith(sys.prefix)")
    echo "README's first command: explained, package installed in the venv"
}

case "$PARTS" in
    wheel) check_wheel ;;
    readme) check_readme ;;
    all) check_wheel; check_readme ;;
    *) echo "usage: $0 [wheel|readme|all]" >&2; exit 2 ;;
esac
step "OK: packaging checks passed ($PARTS)"
