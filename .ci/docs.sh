#!/usr/bin/env bash
# The documentation site, built strictly (CI runs it after .ci/lint.sh): `mkdocs build --strict` with mkdocs.yml
# (MkDocs + Material + mkdocstrings + mkdocs-jupyter, from the `docs` extra that .ci/install.sh installs). Every
# warning fails: a broken link or anchor, a nav entry without its page, a page left out of the nav, an API reference
# that does not resolve, a docstring mkdocstrings cannot parse. The site goes to site/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_MKDOCS_2_WARNING=1
python -m mkdocs build --strict --clean --site-dir "${IH_SITE_DIR:-site}"
