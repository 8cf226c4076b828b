"""The suite's own guard rails (tests/backends.py, tests/conftest.py): skipped tests are
summarised loudly, and services that vanish during a run fail it even without
``XOBITO_REQUIRE_SERVICES``. Each case runs a small part of the suite in a child pytest."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.backends import PG_ADMIN_DSN, probe

ROOT = Path(__file__).resolve().parents[1]
SMALL = "tests/kit/test_phone.py"  # any part of the suite: every test needs the backend


def child(dsn: str, report: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XOBITO_REQUIRE_SERVICES"}
    env |= {
        "XOBITO_TEST_BACKEND": "postgres",
        "XOBITO_TEST_PG_DSN": dsn,
        "XOBITO_TEST_SKIP_REPORT": str(report),
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", SMALL, "-q", "-p", "no:cacheprovider", "-p", "no:cov"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_services_missing_from_the_start_are_a_loud_skip(tmp_path: Path) -> None:
    report = tmp_path / "skips.txt"
    result = child(f"postgresql://postgres@127.0.0.1:{closed_port()}/test", report)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "TESTS SKIPPED on postgres" in result.stdout
    assert "x PostgreSQL/Redis not reachable" in result.stdout
    written = report.read_text()
    assert written.startswith("postgres: ") and " skipped" in written
    assert "PostgreSQL/Redis not reachable" in written


PROXY = """
import socket, sys, threading
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
listener.close()
upstream = socket.create_connection((sys.argv[1], int(sys.argv[2])))

def pipe(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        dst.close()

threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
pipe(upstream, conn)
"""


@pytest.fixture
def one_connection_proxy() -> Iterator[int]:
    """A TCP proxy to PostgreSQL (its own process) that serves its first connection and then
    stops listening: PostgreSQL answers when the run starts, and is gone for every later
    connection."""
    target = urlsplit(PG_ADMIN_DSN)
    proxy = subprocess.Popen(
        [sys.executable, "-c", PROXY, str(target.hostname), str(target.port or 5432)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proxy.stdout is not None
    try:
        yield int(proxy.stdout.readline())
    finally:
        proxy.kill()
        proxy.wait()


def test_services_that_vanish_during_the_run_fail_it(
    one_connection_proxy: int, tmp_path: Path
) -> None:
    if probe() is not None:
        pytest.skip("needs PostgreSQL and Redis to be reachable (XOBITO_TEST_BACKEND=postgres)")
    target = urlsplit(PG_ADMIN_DSN)
    dsn = PG_ADMIN_DSN.replace(target.netloc, f"{target.username}@127.0.0.1:{one_connection_proxy}")
    result = child(dsn, tmp_path / "skips.txt")
    assert result.returncode != 0, result.stdout[-2000:]
    assert "they answered when the run started" in result.stdout + result.stderr
    assert " passed" not in result.stdout
