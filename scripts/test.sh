#!/usr/bin/env bash
# Install everything, then run the whole test suite (slow tests included) offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
