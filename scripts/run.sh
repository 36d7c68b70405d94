#!/usr/bin/env bash
# Runs the app. With no configuration it opens on the bundled demo data and saves runs to a local folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m streamlit run streamlit_app.py "$@"
