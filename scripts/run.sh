#!/usr/bin/env bash
# Sets up and runs Xobito on the embedded default: SQLite in ./var, in-process worker,
# in-memory rate limiter, the sandbox WhatsApp provider. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST="${XOBITO_HOST:-127.0.0.1}"
PORT="${XOBITO_PORT:-8000}"
# The address must be free before anything is printed (a taken port would fail after the
# URL and token were shown). SO_REUSEADDR as uvicorn binds, so a closed socket in TIME_WAIT
# does not count as taken.
if ! python3 - "$HOST" "$PORT" <<'PY'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
except OSError as exc:
    print(f"run.sh: cannot listen on {host}:{port} ({exc.strerror or exc}).", file=sys.stderr)
    print("Another program (or another Xobito) is using it: stop it, or pick another port,"
          " e.g. XOBITO_PORT=8001 scripts/run.sh (XOBITO_HOST sets the interface).",
          file=sys.stderr)
    sys.exit(1)
PY
then
  exit 1
fi
scripts/bootstrap.sh
.venv/bin/xobito db upgrade
.venv/bin/xobito demo --base-url "http://${HOST}:${PORT}"
exec .venv/bin/xobito serve --host "$HOST" --port "$PORT"
