"""Fixtures for the provider layer: the fake Graph server and a CloudProvider pointed at it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.fixtures import fake_graph, fake_graph_server
from xobito.whatsapp import CloudProvider, ConnectionInfo

__all__ = ["closed_port", "conn", "fake_graph", "fake_graph_server", "provider"]


@pytest.fixture
def conn() -> ConnectionInfo:
    return ConnectionInfo(
        phone_number_id="106540352242922", waba_id="419561257915477", access_token="EAAG-test-token"
    )


@pytest.fixture
async def provider(fake_graph: FakeGraphServer) -> AsyncIterator[CloudProvider]:
    # Tiny base delay: retries are exercised for real, without long sleeps.
    p = CloudProvider(fake_graph.base_url, max_attempts=3, base_delay=0.001, max_delay=0.01)
    yield p
    await p.close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound then released), for connect-refused errors."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def _clean() -> None:
    """Overrides the root conftest's autouse table cleanup: nothing here touches a database."""
