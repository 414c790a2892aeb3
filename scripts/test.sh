#!/usr/bin/env bash
# Install everything, then run the whole test suite (slow tests included) offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check engine eval tests bench serve.py
exec .venv/bin/python -m pytest "$@"
