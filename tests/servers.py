"""Real API server processes for tests that need more than one process (shared rate limits,
revocation seen by another process).

``running_servers`` starts ``python -m uvicorn xobito.app:create_app --factory`` on a free port
with the test backend's database and Redis, waits until ``/healthz`` answers, and stops the
process afterwards. Its output goes to a log file that is shown when it fails to start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.backends import Backend

# Seconds a server may take to answer /healthz: a loaded 2-core machine took more than 60.
START_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_env(
    backend: Backend, admin_key: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The parent's environment without any ``XOBITO_*`` setting, plus the test backend's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XOBITO_")}
    env.update(
        {
            "XOBITO_ENV": "testing",
            "XOBITO_DATABASE_URL": backend.database_url,
            "XOBITO_REDIS_PREFIX": backend.redis_prefix,
            "XOBITO_ADMIN_KEY": admin_key,
            "XOBITO_WORKER_IN_PROCESS": "false",
            "XOBITO_LOG_LEVEL": "WARNING",
        }
    )
    if backend.redis_url:
        env["XOBITO_REDIS_URL"] = backend.redis_url
    env.update(extra or {})
    return env


def wait_until_healthy(server: Server, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {server.process.returncode}:\n{server.output()}"
                )
            try:
                if client.get(f"{server.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"server not healthy after {timeout} s:\n{server.output()}")
            time.sleep(0.05)  # between polls only; the loop ends as soon as it answers


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(STOP_TIMEOUT)


def start_server(
    backend: Backend,
    admin_key: str,
    workdir: str,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> Server:
    """Spawn one uvicorn process on 127.0.0.1 and ``port`` (a free one by default); does
    not wait for it."""
    port = port or free_port()
    log = Path(workdir) / f"server-{port}-{time.monotonic_ns()}.log"  # a restart keeps both
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "xobito.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd,
            env=server_env(backend, admin_key, extra_env),
            cwd=workdir,  # an empty directory, so no ``.env`` file is picked up
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


@contextmanager
def running_servers(
    backend: Backend, admin_key: str, count: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[list[Server]]:
    """``count`` server processes, started side by side; all healthy when this yields."""
    with tempfile.TemporaryDirectory(prefix="xobito-server-") as workdir:
        servers: list[Server] = []
        try:
            for _ in range(count):
                servers.append(start_server(backend, admin_key, workdir, extra_env))
            for server in servers:
                wait_until_healthy(server)
            yield servers
        finally:
            for server in servers:
                stop(server)


@contextmanager
def running_server(
    backend: Backend, admin_key: str, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """One server process, healthy when this yields."""
    with running_servers(backend, admin_key, 1, extra_env) as servers:
        yield servers[0]
