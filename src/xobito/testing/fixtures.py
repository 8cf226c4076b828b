"""Pytest fixtures for the fake Graph server.

Import them into a ``conftest.py`` (``from xobito.testing.fixtures import fake_graph,
fake_graph_server``) or list this module in ``pytest_plugins`` of the root conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from xobito.testing.fake_graph import FakeGraphServer


@pytest.fixture(scope="session")
def fake_graph_server() -> Iterator[FakeGraphServer]:
    """One fake Graph API on a real local port for the whole session."""
    with FakeGraphServer() as server:
        yield server


@pytest.fixture
def fake_graph(fake_graph_server: FakeGraphServer) -> Iterator[FakeGraphServer]:
    """The session's fake, reset before and after each test (traffic, failures, settings)."""
    fake_graph_server.reset()
    yield fake_graph_server
    fake_graph_server.reset()
