"""``xobito doctor <subdomain>``: readable output, ``--json``, exit 1 when a check fails;
Meta is the fake Graph API (``XOBITO_GRAPH_BASE_URL``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.backends import Backend
from tests.connection.conftest import Doctor, doctor
from tests.message.conftest import cloud, fake_graph, fake_graph_server, messaging
from xobito.cli.main import app
from xobito.config import get_settings
from xobito.testing.fake_graph import FakeGraphServer

__all__ = ["cloud", "doctor", "fake_graph", "fake_graph_server", "messaging"]


class Cli:
    def __init__(self, database_url: str, graph: FakeGraphServer) -> None:
        self.env = {
            "XOBITO_DATABASE_URL": database_url,
            "XOBITO_GRAPH_BASE_URL": graph.base_url,
            "COLUMNS": "200",
        }
        self.runner = CliRunner()

    async def __call__(self, *args: str) -> Result:
        def invoke() -> Result:
            get_settings.cache_clear()
            try:
                return self.runner.invoke(app, ["doctor", *args], env=self.env)
            finally:
                get_settings.cache_clear()

        return await asyncio.to_thread(invoke)


@pytest.fixture
def cli(backend: Backend, cloud: FakeGraphServer) -> Iterator[Cli]:
    yield Cli(backend.database_url, cloud)
    get_settings.cache_clear()


async def test_a_healthy_connection_exits_0(doctor: Doctor, cli: Cli) -> None:
    ct = await doctor.healthy()
    result = await cli(ct.tenant.workspace.subdomain)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"WhatsApp connection of {ct.tenant.workspace.subdomain} (cloud)" in out
    assert "✔ ok" in out and "Access token" in out
    assert "! warning" in out and "Templates were never synced" in out
    assert f"→ Sync them: xobito template sync {ct.tenant.workspace.subdomain}" in out
    assert out.rstrip().endswith("2 warnings found.")
    assert doctor.graph.schema_violations == []


async def test_an_error_exits_1_and_json_is_the_api_report(doctor: Doctor, cli: Cli) -> None:
    ct = await doctor.healthy()
    doctor.graph.access_tokens = {"another-token"}
    result = await cli(ct.tenant.workspace.subdomain)
    assert result.exit_code == 1
    assert "✖ error" in result.stdout
    assert "The access token is invalid or expired" in result.stdout
    assert "1 problem and 2 warnings found." in result.stdout  # Meta's checks are skipped

    as_json = await cli(ct.tenant.workspace.subdomain, "--json")
    assert as_json.exit_code == 1
    report: dict[str, Any] = json.loads(as_json.stdout)
    api = await doctor.report(ct.tenant)
    for volatile in ("checked_at",):
        report.pop(volatile)
        api.pop(volatile)
    assert report == api


async def test_an_unknown_workspace(cli: Cli) -> None:
    result = await cli("nope")
    assert result.exit_code == 1
    assert "Workspace not found" in result.output
