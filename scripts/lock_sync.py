"""Removes from the running environment every distribution that the given lock file does not
name (run by scripts/bootstrap.sh dev after installing the lock), so that an old .venv holds
what a fresh one would: the lock, pip, and the checkout's own packages."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

KEEP = {"pip", "xobito", "xobito-client"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.MULTILINE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(lock: str) -> int:
    locked = {canonical(name) for name in PIN.findall(Path(lock).read_text())}
    installed = {canonical(dist.metadata["Name"]) for dist in metadata.distributions()}
    extra = sorted(installed - locked - KEEP)
    if not extra:
        return 0
    print(f"bootstrap: removing what {lock} does not name: {', '.join(extra)}")
    return subprocess.call([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", *extra])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
