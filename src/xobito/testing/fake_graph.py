"""A fake Meta Graph API (Cloud API subset) that validates every request against Meta's schema.

In tests::

    with FakeGraphServer() as graph:             # real uvicorn on 127.0.0.1:<free port>
        provider = CloudProvider(base_url=graph.base_url)   # http://127.0.0.1:PORT/v23.0
        ...
        assert graph.schema_violations == []

For benchmarks: ``python -m xobito.testing.fake_graph --port 8099 --latency-ms 50``.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence
from typing import Any

import uvicorn

from xobito.testing.fake_graph_app import GRAPH_VERSION, FakeGraph
from xobito.testing.fake_graph_records import (
    ProgrammedFailure,
    RecordedRequest,
    SchemaViolation,
    SentMessage,
    UploadedMedia,
)
from xobito.testing.fake_graph_server import KEEP_ALIVE_SECONDS, ServerThread
from xobito.testing.meta_webhooks import StatusUpdate, build_status_webhook, sign_payload

__all__ = [
    "GRAPH_VERSION",
    "FakeGraph",
    "FakeGraphServer",
    "ProgrammedFailure",
    "RecordedRequest",
    "SchemaViolation",
    "SentMessage",
    "StatusUpdate",
    "UploadedMedia",
    "build_status_webhook",
    "main",
    "sign_payload",
]


class FakeGraphServer(FakeGraph):
    """``FakeGraph`` served by uvicorn on a real local port, in a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._thread = ServerThread(self.app, host, port)

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no version)."""
        return self._thread.root_url

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v23.0``: what ``CloudProvider(base_url=...)`` wants."""
        return f"{self.root_url}/{self.version}"

    @property
    def port(self) -> int:
        return self._thread.port

    def start(self) -> FakeGraphServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> FakeGraphServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the fake in the foreground. Prints ``fake Graph API on <base_url>`` once the port
    is bound (``--port 0`` picks a free one), so a parent process can read the URL from stdout.
    """
    parser = argparse.ArgumentParser(description="Fake Meta Graph API for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--no-validate", action="store_true", help="skip schema validation")
    parser.add_argument("--record", action="store_true", help="keep every request in memory")
    args = parser.parse_args(argv)
    graph = FakeGraph(latency_ms=args.latency_ms, validate=not args.no_validate, record=args.record)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)  # connections queue from here on, before uvicorn starts accepting
    port = sock.getsockname()[1]
    print(f"fake Graph API on http://{args.host}:{port}/{graph.version}", flush=True)
    config = uvicorn.Config(
        graph.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        backlog=2048,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,  # see fake_graph_server
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
