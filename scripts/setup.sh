#!/usr/bin/env bash
# Creates .venv and installs what the app (and, with --dev, the tests) need. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  # Debian's chromium for the browser tests (Playwright cannot download its own browser here), and the
  # Japanese font the exported legends and the browser need (packages.txt lists it for Community Cloud).
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=($(cat packages.txt))
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = "0" ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  .venv/bin/python -m pip install -q -r requirements.txt
fi
