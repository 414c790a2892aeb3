#!/usr/bin/env bash
# Install everything, then run the whole test suite (slow tests included) offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# tests/browser: Debian's Chromium and its driver (never a browser a test tool downloads), and the pinned
# axe-core from npm. Where they cannot be installed those tests skip and say why.
if ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null; }) \
        || echo "chromium could not be installed: the browser tests will skip" >&2
fi
if command -v npm >/dev/null; then
    npm ci --no-audit --no-fund --silent || echo "npm ci failed: the browser tests will skip" >&2
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check engine eval tests bench serve.py
exec .venv/bin/python -m pytest "$@"
