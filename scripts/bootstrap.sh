#!/usr/bin/env bash
# Creates .venv (Python 3.11) and installs Xobito into it from the lock (requirements/);
# installs again when the lock or a pyproject.toml changes.
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
fi
# Exactly the locked versions (requirements/*.txt, with hashes; scripts/lock.sh refreshes
# them), then the checkout itself, editable, with no dependency resolution of its own.
lock=requirements/main.txt
[ "$extra" = dev ] && lock=requirements/dev.txt
pip=(.venv/bin/python -m pip --quiet --disable-pip-version-check)
stamp=".venv/.xobito-installed${extra:+-$extra}"
want="$(cat "$lock" pyproject.toml sdk/pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "${pip[@]}" install --require-hashes --no-deps -r "$lock"
  "${pip[@]}" install --no-deps --no-build-isolation -e .
  # The test tools include the Python client in sdk/ (its tests run in the main suite).
  if [ "$extra" = dev ]; then
    "${pip[@]}" install --no-deps --no-build-isolation -e sdk
    .venv/bin/python scripts/lock_sync.py "$lock"
  fi
  .venv/bin/python -m pip check --disable-pip-version-check >/dev/null || {
    .venv/bin/python -m pip check >&2
    echo "bootstrap: the lock does not satisfy pyproject.toml; run scripts/lock.sh" >&2; exit 1
  }
  echo "$want" > "$stamp"
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
