#!/usr/bin/env bash
# Installs the test tools and runs everything: ruff, mypy --strict, the wheel smoke test, the
# suite on SQLite and on PostgreSQL + Redis, and a 90 % line-coverage gate on src/.
# The PostgreSQL run is skipped when the services are missing, unless XOBITO_REQUIRE_SERVICES=1.
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
echo "== tests on SQLite (in-memory rate limiter)"
XOBITO_TEST_BACKEND=sqlite pytest --cov=xobito --cov-report= "$@"
echo "== tests on PostgreSQL + Redis"
XOBITO_TEST_BACKEND=postgres pytest --cov=xobito --cov-append --cov-report= "$@"
echo "== coverage"
coverage report --fail-under=90
