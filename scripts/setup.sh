#!/usr/bin/env bash
# Creates .venv and installs rftoy with its dev tools. torch is pinned first to the CPU build this machine
# kind carries (pip takes it from the local wheel), so no CUDA packages are downloaded; an already installed
# torch >= 2.4 is kept. With --browser it also installs Debian's Chromium for the browser tests (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_SPEC="${RFTOY_TORCH_SPEC:-torch==2.13.0}"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/pip install --quiet "$TORCH_SPEC"
fi
.venv/bin/pip install --quiet -e ".[dev]"

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: Chromium is missing; install it with 'sudo apt-get install chromium' for the browser tests" >&2
  fi
fi
