"""``xobito serve`` stops on SIGTERM even while an inbox page holds its event stream open:
the stream ends after ``XOBITO_SERVE_SHUTDOWN_SECONDS`` (the page then reconnects elsewhere
with its last event id). Before the bound, uvicorn waited for the stream for ever, and kept
streaming from a server that was going away."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import Factory
from tests.servers import Server, free_port, server_env, wait_until_healthy
from tests.web.test_events import raw_lines_until, signed_in, stream


def start_serve(
    port: int, env: dict[str, str], workdir: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "xobito.cli.main", "serve", "--port", str(port)],
            env=env,
            cwd=workdir,  # no .env file here
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


async def test_sigterm_ends_open_event_streams_and_the_server_exits(
    backend: Backend, factory: Factory, tmp_path: Path
) -> None:
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
            "XOBITO_SERVE_SHUTDOWN_SECONDS": "1",
        },
    )
    process, log = start_serve(port, env, tmp_path)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    client: httpx.AsyncClient | None = None
    try:
        await asyncio.to_thread(wait_until_healthy, server)
        client = await signed_in(server.url, user.email)
        async with stream(client, f"/app/{tenant.workspace.subdomain}/events") as r:
            await raw_lines_until(r, ": heartbeat")  # open and alive
            process.send_signal(signal.SIGTERM)
            # The stream ends (or fails after 30 s), and then the process exits.
            # Ended mid-stream by the server is fine too: a browser reconnects from that.
            with contextlib.suppress(httpx.RemoteProtocolError):
                await raw_lines_until(r, None, within=30)
        code = await asyncio.to_thread(process.wait, 30)
        # uvicorn exits by re-raising the signal it stopped for.
        assert code in (0, -signal.SIGTERM), log.read_text(errors="replace")
    finally:
        if client is not None:
            await client.aclose()
        if process.poll() is None:
            process.kill()
            process.wait()
