"""``xobito serve`` stops at once on SIGTERM even while an inbox page holds its event stream
open: the stream is ended by the app (its page reconnects elsewhere with its last event id),
so uvicorn's graceful shutdown neither waits ``XOBITO_SERVE_SHUTDOWN_SECONDS`` for it nor
cancels it with an error. Before the bound existed, uvicorn waited for the stream for ever;
with the bound alone, it waited the bound out and logged "Cancel 1 running task(s)"."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import Factory
from tests.servers import Server, free_port, server_env, wait_until_healthy
from tests.web.test_events import raw_lines_until, signed_in, stream

SERVE = (sys.executable, "-m", "xobito.cli.main", "serve")


def start_serve(
    port: int, env: dict[str, str], workdir: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], Path]:
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=workdir,  # no .env file here
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


@pytest.mark.parametrize("workers", [1, 2])
async def test_sigterm_ends_open_event_streams_at_once_and_the_server_exits(
    backend: Backend, factory: Factory, tmp_path: Path, workers: int
) -> None:
    """With two workers the supervisor passes SIGTERM on to each worker process."""
    tenant = await factory.tenant()
    user = await factory.user(tenant.workspace, "agent")
    port = free_port()
    env = server_env(
        backend,
        ADMIN_KEY,
        {
            "XOBITO_PASSWORD_HASHING": "fast",
            "XOBITO_AUTH_CACHE_SECONDS": "0",
            "XOBITO_LIVE_HEARTBEAT_SECONDS": "1",
            # Far beyond the waits below: only ending the streams lets the test pass.
            "XOBITO_SERVE_SHUTDOWN_SECONDS": "300",
        },
    )
    process, log = start_serve(port, env, tmp_path, workers)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    client: httpx.AsyncClient | None = None
    try:
        await asyncio.to_thread(wait_until_healthy, server)
        client = await signed_in(server.url, user.email)
        async with stream(client, f"/app/{tenant.workspace.subdomain}/events") as r:
            await raw_lines_until(r, ": heartbeat")  # open and alive
            process.send_signal(signal.SIGTERM)
            # The stream ends cleanly (a complete chunked response), or fails after 30 s.
            await raw_lines_until(r, None, within=30)
        code = await asyncio.to_thread(process.wait, 30)
        # uvicorn exits by re-raising the signal it stopped for.
        output = log.read_text(errors="replace")
        assert code in (0, -signal.SIGTERM), output
        assert "graceful shutdown exceeded" not in output
        assert "Traceback" not in output
    finally:
        if client is not None:
            await client.aclose()
        if process.poll() is None:
            process.kill()
            process.wait()
