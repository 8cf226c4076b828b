#!/usr/bin/env bash
# Sets up and runs Xobito on the embedded default: SQLite in ./var, in-process worker,
# in-memory rate limiter, the sandbox WhatsApp provider. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${XOBITO_HOST:-127.0.0.1}"
PORT="${XOBITO_PORT:-8000}"
scripts/bootstrap.sh
export XOBITO_DATABASE_URL="${XOBITO_DATABASE_URL:-sqlite+aiosqlite:///./var/xobito.db}"
.venv/bin/xobito db upgrade
.venv/bin/xobito demo --base-url "http://${HOST}:${PORT}"
exec .venv/bin/xobito serve --host "$HOST" --port "$PORT"
