"""``scripts/run.sh`` checks its address before it sets anything up or prints a token."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_taken_port_stops_run_sh_with_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [str(ROOT / "scripts" / "run.sh")],
            env={**os.environ, "XOBITO_HOST": "127.0.0.1", "XOBITO_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "XOBITO_PORT=" in result.stderr
    assert "apitk_" not in result.stdout + result.stderr  # nothing was set up or printed
    assert result.stdout == ""
