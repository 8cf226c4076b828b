#!/usr/bin/env bash
# Refreshes the locked dependencies that scripts/bootstrap.sh installs (pinned, with hashes):
#   requirements/dev.txt   the server, its dev tools, the SDK (sdk/, with its aiohttp extra)
#                          and the build tools (requirements/build.in)
#   requirements/main.txt  the server and the build tools only, at the same versions
# pyproject.toml keeps the ranges; the lock picks one version of each for every checkout.
# Usage: scripts/lock.sh                        keep current pins where the ranges still allow
#        scripts/lock.sh --upgrade              newest versions the ranges allow
#        scripts/lock.sh --upgrade-package NAME newest NAME only (repeatable)
# Needs uv, which `scripts/bootstrap.sh dev` installs into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=.venv/bin/uv
if [ ! -x "$uv" ]; then
  echo "lock: $uv is missing; run scripts/bootstrap.sh dev first" >&2; exit 1
fi
common=(--generate-hashes --universal --python-version 3.11 --quiet
        --custom-compile-command "scripts/lock.sh")
"$uv" pip compile "${common[@]}" "$@" \
  pyproject.toml sdk/pyproject.toml requirements/build.in --extra dev --extra aiohttp \
  -o requirements/dev.txt
# Constrained by the dev lock, so the server runs on exactly the versions it is tested with.
"$uv" pip compile "${common[@]}" \
  pyproject.toml requirements/build.in --constraint requirements/dev.txt \
  -o requirements/main.txt
echo "lock: requirements/dev.txt ($(grep -c '^[a-z0-9]' requirements/dev.txt) packages)," \
     "requirements/main.txt ($(grep -c '^[a-z0-9]' requirements/main.txt) packages)"
