#!/usr/bin/env bash
# Creates .venv and installs rftoy with its dev tools. torch is pinned first to the CPU build this machine
# kind carries (pip takes it from the local wheel), so no CUDA packages are downloaded; an already installed
# torch >= 2.4 is kept. With --browser it also installs Debian's Chromium for the browser tests, its
# PostgreSQL server for the saved-scene store tests and its nginx for the replica topology test (needs root).
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

test_packages_missing() {
  [ ! -x /usr/bin/chromium ] || ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || [ ! -x /usr/sbin/nginx ]
}
if [ "${1:-}" = "--browser" ] && test_packages_missing; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql nginx >/dev/null
  else
    echo "setup: Chromium, PostgreSQL or nginx is missing; install them with" \
      "'sudo apt-get install chromium postgresql nginx' for the browser, store and topology tests" >&2
  fi
fi
