#!/usr/bin/env bash
# Install headless Chromium and its WebDriver for the browser tests (tests/test_visualize_browser.py), with apt
# (Debian/Ubuntu; through sudo when not root). Idempotent: does nothing when /usr/bin/chromium and
# /usr/bin/chromedriver are already there.
#
# Never fails the command it is part of: where Chromium cannot be installed (no apt-get, not root and no sudo, or
# apt-get fails) it says why and exits 0, so the rest of the test suite still runs. The browser tests then say
# that Chromium is missing: skipped outside CI, failed under CI=true. Elsewhere (macOS, Windows), install Chromium
# and a matching chromedriver yourself and point IH_CHROMIUM and IH_CHROMEDRIVER at them.
set -uo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown version)"
    exit 0
fi

cannot_install() {
    echo "WARNING: headless Chromium was not installed: $1." >&2
    echo "WARNING: the browser tests (tests/test_visualize_browser.py) will be skipped, or fail under CI=true." >&2
    echo "WARNING: install 'chromium' and 'chromium-driver' (apt) or set IH_CHROMIUM / IH_CHROMEDRIVER." >&2
    exit 0
}

command -v apt-get >/dev/null 2>&1 || cannot_install "apt-get is not available on this machine"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        cannot_install "apt-get needs root, and sudo is missing or asks for a password"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
${SUDO[@]+"${SUDO[@]}"} apt-get update -qq || cannot_install "apt-get update failed"
${SUDO[@]+"${SUDO[@]}"} apt-get install -y -qq chromium chromium-driver || cannot_install "apt-get install chromium chromium-driver failed"
/usr/bin/chromium --version || cannot_install "/usr/bin/chromium does not run"
