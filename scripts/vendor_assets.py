"""Copies the browser assets listed under ``xobitoAssets`` in package.json from node_modules
into src/xobito/web/static/vendor/ (run by scripts/bootstrap.sh after ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "xobito" / "web" / "static" / "vendor"


def main() -> int:
    assets: dict[str, str] = json.loads((ROOT / "package.json").read_text())["xobitoAssets"]
    for target, source in assets.items():
        src, dst = ROOT / source, VENDOR / target
        if not src.is_file():
            print(f"vendor_assets: {source} is missing (run npm ci)", file=sys.stderr)
            return 1
        if dst.is_file() and dst.read_bytes() == src.read_bytes():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
