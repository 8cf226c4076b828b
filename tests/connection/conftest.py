"""The messaging fixtures (fake Graph API behind the cloud provider, connected tenants), and
``doctor`` for the connection doctor's tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from tests.factories import Tenant
from tests.message.conftest import (
    APP_SECRET,
    CloudTenant,
    Messaging,
    cloud,
    fake_graph,
    fake_graph_server,
    messaging,
)
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_webhooks import (
    SIGNATURE_HEADER,
    StatusUpdate,
    build_status_webhook,
    sign_payload,
)

__all__ = ["cloud", "doctor", "fake_graph", "fake_graph_server", "messaging"]


@dataclass
class Doctor:
    """Runs "Check connection" through the admin API and plays Meta's webhooks."""

    app: FastAPI
    client: httpx.AsyncClient
    admin: dict[str, str]
    messaging: Messaging
    graph: FakeGraphServer

    async def healthy(self, **connect: Any) -> CloudTenant:
        """A cloud workspace whose WABA, numbers and subscription exist at the fake Meta."""
        ct = await self.messaging.cloud_tenant(**connect)
        self.graph.accounts.add_waba(ct.waba_id, ct.phone_number_ids)
        return ct

    async def report(self, tenant: Tenant) -> dict[str, Any]:
        r = await self.client.get(
            f"/api/admin/workspaces/{tenant.workspace.subdomain}/whatsapp/doctor",
            headers=self.admin,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert (body["status"], body["message"]) == ("success", "Connection checked")
        return body["data"]

    async def check(self, tenant: Tenant, check_id: str) -> dict[str, Any]:
        found: dict[str, Any] = by_id(await self.report(tenant))[check_id]
        return found

    async def webhook(self, number: str, secret: str | None) -> int:
        """A status webhook for ``number`` signed with ``secret`` (unsigned when None)."""
        payload = build_status_webhook(
            [StatusUpdate("wamid.doctor", "delivered", "14155550100")], phone_number_id=number
        )
        body = orjson.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign_payload(body, secret)
        r = await self.client.post("/webhooks/whatsapp", content=body, headers=headers)
        return r.status_code

    async def accepted(self, ct: CloudTenant) -> None:
        assert await self.webhook(ct.number, APP_SECRET) == 200


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


@pytest.fixture
def doctor(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    messaging: Messaging,
    cloud: FakeGraphServer,
) -> Doctor:
    return Doctor(app, client, admin_headers, messaging, cloud)
