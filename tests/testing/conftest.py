"""Fixtures for the test-support package: the shared fake Graph server."""

import pytest

from xobito.testing.fixtures import fake_graph, fake_graph_server

__all__ = ["fake_graph", "fake_graph_server"]


@pytest.fixture(autouse=True)
def _clean() -> None:
    """Overrides the root conftest's autouse table cleanup: nothing here touches a database."""
