#!/usr/bin/env bash
# Installs transformers-ih and its test dependencies on a fresh machine (CPU torch from the local wheel first,
# so no dependency pulls a CUDA build), and headless Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
if [ -f .ci/install_browser.sh ]; then bash .ci/install_browser.sh; fi
