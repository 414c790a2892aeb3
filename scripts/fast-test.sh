#!/usr/bin/env bash
# The developer loop (about two minutes): lint and every test not marked slow, on the installed .venv.
# The full suite, models and live servers included, is scripts/test.sh (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
.venv/bin/ruff check engine eval tests bench serve.py
exec .venv/bin/python -m pytest -m "not slow" -q "$@"
