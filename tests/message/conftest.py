"""Messaging fixtures: the fake Graph API behind the ``cloud`` provider, and a helper that
builds connected workspaces, opens customer care windows and reads what was stored.

``cloud`` points the app's cloud provider at the session's fake Graph server for one test
(tiny retry delays, so retries run for real in milliseconds) and restores it afterwards.
``messaging`` builds tenants: ``await messaging.cloud_tenant()`` (connected through the admin
API with provider ``cloud``) or ``await messaging.sandbox_tenant()`` (new workspaces are
sandbox-connected automatically).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory, Tenant
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.models import Chat, Contact, Message, Template
from xobito.template.schemas import from_meta
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.fixtures import fake_graph, fake_graph_server
from xobito.testing.meta_templates import make_template
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.sandbox import new_wamid
from xobito.whatsapp.webhooks import inbound_payload

__all__ = ["cloud", "fake_graph", "fake_graph_server", "messaging"]

ACCESS_TOKEN = "EAAG-test-access-token"
APP_SECRET = "test-app-secret"
_numbers = itertools.count(1)


@pytest.fixture
async def cloud(app: FastAPI, fake_graph: FakeGraphServer) -> AsyncIterator[FakeGraphServer]:
    """The app's ``cloud`` provider talks to the fake Graph server during this test."""
    previous = app.state.providers["cloud"]
    provider = CloudProvider(fake_graph.base_url, base_delay=0.001, max_delay=0.01)
    app.state.providers["cloud"] = provider
    try:
        yield fake_graph
    finally:
        app.state.providers["cloud"] = previous
        await provider.close()


@dataclass
class CloudTenant:
    """A tenant connected to the (fake) Cloud API, with its connection's ids."""

    tenant: Tenant
    waba_id: str
    phone_number_ids: list[str]

    @property
    def number(self) -> str:
        return self.phone_number_ids[0]


class Messaging:
    def __init__(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        factory: Factory,
        session: AsyncSession,
        admin_headers: dict[str, str],
    ) -> None:
        self.app = app
        self.client = client
        self.factory = factory
        self.session = session
        self.admin = admin_headers

    # ---- tenants ---------------------------------------------------------------------------

    async def sandbox_tenant(self, **workspace_fields: Any) -> Tenant:
        return await self.factory.tenant(**workspace_fields)

    def connect_body(self, numbers: list[str] | None = None) -> dict[str, Any]:
        n = next(_numbers)
        return {
            "provider": "cloud",
            "waba_id": f"41956125791{n:04d}",
            "phone_number_ids": numbers or [f"10654035224{n:04d}", f"10654035225{n:04d}"],
            "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET,
            "verify_token": "verify-me",
        }

    async def cloud_tenant(
        self, numbers: list[str] | None = None, **workspace_fields: Any
    ) -> CloudTenant:
        tenant = await self.factory.tenant(**workspace_fields)
        body = self.connect_body(numbers)
        r = await self.client.put(
            f"/api/admin/workspaces/{tenant.workspace.subdomain}/whatsapp",
            json=body,
            headers=self.admin,
        )
        assert r.status_code == 200, r.text
        return CloudTenant(tenant, body["waba_id"], body["phone_number_ids"])

    async def patch_workspace(self, tenant: Tenant, **fields: Any) -> None:
        r = await self.client.patch(
            f"/api/admin/workspaces/{tenant.workspace.subdomain}", json=fields, headers=self.admin
        )
        assert r.status_code == 200, r.text

    # ---- customer care window --------------------------------------------------------------

    async def sandbox_inbound(self, tenant: Tenant, phone: str, text: str = "Hi") -> None:
        """A customer writes to a sandbox workspace; the worker stores it."""
        r = await self.client.post(
            f"/api/admin/workspaces/{tenant.workspace.subdomain}/sandbox/inbound",
            json={"phone_number": phone, "text": text, "profile_name": "Customer"},
            headers=self.admin,
        )
        assert r.status_code == 202, r.text
        await self.app.state.worker.drain()

    async def cloud_inbound(self, ct: CloudTenant, phone: str, text: str = "Hi") -> None:
        """A Meta-shaped inbound webhook for a cloud workspace, through the inbox and worker."""
        body = inbound_payload(
            waba_id=ct.waba_id,
            phone_number_id=ct.number,
            wamid=new_wamid(),
            wa_id=phone.lstrip("+"),
            profile_name="Customer",
            text=text,
        )
        async with self.app.state.sessionmaker() as s:
            await InboxRepository(s).add(orjson.dumps(body), EVERYONE)
            await s.commit()
        await self.app.state.worker.drain()

    async def set_last_inbound(self, tenant: Tenant, phone: str, when: datetime) -> None:
        """Time travel: the contact's chat last heard from the customer at ``when``."""
        await self.session.rollback()
        contact_id = await self.session.scalar(
            select(Contact.id).where(
                Contact.workspace_id == tenant.workspace.id, Contact.phone == phone
            )
        )
        assert contact_id is not None
        await self.session.execute(
            update(Chat).where(Chat.contact_id == contact_id).values(last_inbound_at=when)
        )
        await self.session.commit()

    # ---- database reads and writes ---------------------------------------------------------

    async def messages(self, tenant: Tenant) -> list[Message]:
        await self.session.rollback()  # a fresh snapshot: see what the requests committed
        rows = await self.session.scalars(
            select(Message).where(Message.workspace_id == tenant.workspace.id).order_by(Message.id)
        )
        return list(rows)

    async def contact(self, tenant: Tenant, phone: str) -> Contact | None:
        await self.session.rollback()
        contact: Contact | None = await self.session.scalar(
            select(Contact).where(
                Contact.workspace_id == tenant.workspace.id, Contact.phone == phone
            )
        )
        return contact

    async def set_contact(self, contact_id: int, **values: Any) -> None:
        await self.session.rollback()
        await self.session.execute(update(Contact).where(Contact.id == contact_id).values(**values))
        await self.session.commit()

    async def template(self, tenant: Tenant, name: str, **meta: Any) -> Template:
        """A template stored as a sync would store ``make_template(name, **meta)``."""
        values = from_meta(make_template(name, **meta))
        async with self.app.state.sessionmaker() as s:
            row = Template(workspace_id=tenant.workspace.id, **values)
            s.add(row)
            await s.commit()
            await s.refresh(row)
            return row

    async def sync(self, tenant: Tenant) -> httpx.Response:
        return await self.client.post(
            f"/api/admin/workspaces/{tenant.workspace.subdomain}/templates/sync",
            headers=self.admin,
        )


@pytest.fixture
def messaging(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    admin_headers: dict[str, str],
) -> Messaging:
    return Messaging(app, client, factory, session, admin_headers)
