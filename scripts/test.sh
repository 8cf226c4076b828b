#!/usr/bin/env bash
# Installs the test tools and runs everything: ruff, mypy --strict, the wheel smoke test, the
# suite on SQLite and on PostgreSQL + Redis, and a 90 % line-coverage gate on src/.
# The PostgreSQL run is skipped when the services are missing (loudly: the summary at the end
# lists every skip and its reason), unless XOBITO_REQUIRE_SERVICES=1; services that vanish
# during a run always fail it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
export PATH="$PWD/.venv/bin:$PATH"
# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (apt-get)"
  if [ "$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
  DEBIAN_FRONTEND=noninteractive $apt_get install -y -q chromium >/dev/null
fi

echo "== ruff"; ruff check src tests bench sdk
echo "== mypy --strict"; mypy src; mypy --strict sdk/src
echo "== wheel: built, installed alone outside the checkout, smoke-tested"
python scripts/wheel_smoke.py

coverage erase
# Each run writes what it skipped and why; both are printed again at the end (and on failure).
skips="$(mktemp -d)"
trap 'echo "== skipped tests"; cat "$skips"/*.txt 2>/dev/null; rm -rf "$skips"' EXIT
echo "== tests on SQLite (in-memory rate limiter)"
XOBITO_TEST_SKIP_REPORT="$skips/1-sqlite.txt" XOBITO_TEST_BACKEND=sqlite \
  pytest --cov=xobito --cov-report= "$@"
echo "== tests on PostgreSQL + Redis"
XOBITO_TEST_SKIP_REPORT="$skips/2-postgres.txt" XOBITO_TEST_BACKEND=postgres \
  pytest --cov=xobito --cov-append --cov-report= "$@"
echo "== coverage"
coverage report --fail-under=90
