"""The messaging fixtures (fake Graph API behind the cloud provider, connected tenants)."""

from tests.message.conftest import cloud, fake_graph, fake_graph_server, messaging

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]
