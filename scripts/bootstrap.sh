#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs Xobito into it; reinstalls when pyproject.toml changes.
# Usage: scripts/bootstrap.sh [extra]   (extra: "dev" for the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
  done
fi
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=".venv/.xobito-installed${extra:+-$extra}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  spec="."
  [ -n "$extra" ] && spec=".[$extra]"
  .venv/bin/python -m pip install -q -e "$spec"
  echo "$want" > "$stamp"
fi
# The test tools include the Python client in sdk/ (its tests run in the main suite).
if [ "$extra" = dev ]; then
  sdk_stamp=.venv/.xobito-sdk-installed
  sdk_want="$(sha256sum sdk/pyproject.toml | cut -d' ' -f1)"
  if [ "$(cat "$sdk_stamp" 2>/dev/null)" != "$sdk_want" ]; then
    .venv/bin/python -m pip install -q -e "sdk[aiohttp]"
    echo "$sdk_want" > "$sdk_stamp"
  fi
fi
# Browser assets (dashboard, /docs, /redoc) from the npm registry, pinned by package-lock.json,
# copied into the package's static folder (git-ignored, part of the wheel).
if [ "${XOBITO_SKIP_ASSETS:-}" != 1 ]; then
  npm_stamp=node_modules/.xobito-lock
  npm_want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ "$(cat "$npm_stamp" 2>/dev/null)" != "$npm_want" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "bootstrap: npm (Node.js) is needed for the dashboard's assets" >&2; exit 1
    fi
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    echo "$npm_want" > "$npm_stamp"
  fi
  .venv/bin/python scripts/vendor_assets.py
fi
