"""Run an ASGI app with uvicorn on a real local port in a daemon thread."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

KEEP_ALIVE_SECONDS = 75  # like nginx's default; longer than any client pool of ours keeps one


class ServerThread:
    """Start/stop uvicorn serving ``app`` on ``host:port`` (port 0 = pick a free one).

    The listening socket is bound before the thread starts, so the port is known (and
    connections queue in the backlog) immediately; ``start`` still waits for uvicorn's startup
    so that failures surface in the caller instead of in a silent thread.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        if not self.port:
            raise RuntimeError("server not started")
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            raise RuntimeError("server already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        sock.listen(2048)
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            backlog=2048,
            # Idle keep-alive connections are closed by the server after this: it must outlast
            # the client's own keep-alive (CloudProvider: 30 s), or a request written on a
            # connection the server is closing at that moment fails "Server disconnected"
            # (uvicorn's 5 s default did that to campaign sends, judged unknown outcomes).
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=2,
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"fake-graph-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        # uvicorn offers no startup callback; poll its flag (bounded, startup takes ~ms).
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"fake server failed to start on {self._host}:{self.port}")
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = None
        self._thread = None
        self._sock = None
