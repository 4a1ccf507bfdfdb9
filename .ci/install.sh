#!/usr/bin/env bash
# Test setup (the README's second command; .ci/run calls it): the CPU build of torch first (torch==2.13.0, so no
# dependency pulls a CUDA build), this package in editable mode with its test and docs extras (the docs extra for
# .ci/docs.sh), and headless Chromium for
# the browser tests (.ci/install_browser.sh: apt; without apt it warns, and the browser tests skip outside CI).
# The library alone needs none of this: `pip install torch==2.13.0 && pip install .` (README, Quick start).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
bash .ci/install_browser.sh
