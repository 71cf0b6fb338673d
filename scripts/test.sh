#!/usr/bin/env bash
# Installs everything the tests need, then runs the linters and the test suite.
# The README's test command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}

# System packages the tests need:
#   postgresql  the storage tests start a throwaway server of their own
#               (FLOWENGINE_SKIP_PG=1 skips them where it cannot be installed)
#   sip-tester  SIPp: the SIP backend's interop tests
#   chromium    the web editor's end-to-end tests (Playwright drives it; no browser download)
#   nodejs npm  build and unit-test the web editor from its source
DEBIAN_PACKAGES=(postgresql sip-tester chromium)
command -v npm >/dev/null 2>&1 || DEBIAN_PACKAGES+=(nodejs npm)
if [ ${#DEBIAN_PACKAGES[@]} -gt 0 ]; then
  missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
fi

echo "installing flowengine with its test dependencies"
"$PY" -m pip install --quiet --disable-pip-version-check -e '.[test]'

echo "web editor: npm ci and its unit tests"
(cd editor && npm ci --no-audit --no-fund --loglevel=error && PYTHON="$PY" npm test --silent)

echo "ruff"
"$PY" -m ruff check flowengine nodes telephony_adapters bench

echo "mypy"
"$PY" -m mypy flowengine nodes telephony_adapters

echo "pytest"
"$PY" -m pytest "$@"
