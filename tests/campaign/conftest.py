"""Campaign fixtures: a cloud workspace with an approved template and contacts, and a
campaign engine whose Cloud API provider talks to the fake Graph server over real HTTP.

``campaigns.engine()`` builds an engine (several may run at once, like worker processes
sharing one pacer); ``campaigns.run(engine)`` ticks it until nothing is left to send.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import Factory
from tests.message.conftest import CloudTenant, Messaging, cloud, fake_graph, fake_graph_server
from tests.message.conftest import messaging as messaging
from tests.webhook.conftest import receiver, receiver_server
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.pacing import MemoryPacer, Pacer
from xobito.config import Settings
from xobito.kit.time import utcnow
from xobito.models import Campaign, CampaignRecipient, Message
from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp.cloud import CloudProvider
from xobito.whatsapp.sandbox import SandboxProvider

__all__ = ["campaigns", "cloud", "fake_graph", "fake_graph_server", "receiver", "receiver_server"]

_phones = itertools.count(100)
BODY = "Hi {{1}}, use code {{2}}."


async def until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    """Wait (polling) until ``check()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    for _ in itertools.count():
        if check():
            return
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def new_phone() -> str:
    """A valid US number (libphonenumber's rules), unique in the session."""
    n = next(_phones)
    return f"+1212555{n:04d}"


class Campaigns:
    def __init__(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        factory: Factory,
        messaging: Messaging,
        graph: FakeGraphServer,
        settings: Settings,
    ) -> None:
        self.app = app
        self.client = client
        self.factory = factory
        self.messaging = messaging
        self.graph = graph
        self.settings = settings
        self.engines: list[CampaignEngine] = []
        self.providers: list[CloudProvider] = []
        self.pacer: Pacer = MemoryPacer()

    async def tenant(self, body: str = BODY, rate: int = 1000, **template: Any) -> CloudTenant:
        """A cloud workspace with the template ``promo``; its number sends ``rate``/s."""
        ct = await self.messaging.cloud_tenant()
        await self.messaging.template(ct.tenant, "promo", body=body, **template)
        r = await self.client.put(
            ct.tenant.url(f"/campaigns/numbers/{ct.number}"),
            json={"rate_per_second": rate},
            headers=ct.tenant.headers,
        )
        assert r.status_code == 200, r.text
        return ct

    async def contacts(self, ct: CloudTenant, n: int, **fields: Any) -> list[dict[str, Any]]:
        out = []
        for i in range(n):
            values = {"firstname": f"Ann{i}", "phone": new_phone(), **fields}
            out.append(await self.factory.contact(ct.tenant, **values))
        return out

    async def many_contacts(self, ct: CloudTenant, n: int) -> list[str]:
        """``n`` contacts through the bulk import; their phones."""
        rows = [{"firstname": f"P{i}", "phone": new_phone()} for i in range(n)]
        await self.factory.contacts(ct.tenant, rows)
        return [str(r["phone"]) for r in rows]

    def engine(
        self,
        *,
        clock: Callable[[], datetime] = utcnow,
        pacer: Pacer | None = None,
        timeout: float = 30.0,
        **overrides: Any,
    ) -> CampaignEngine:
        """``overrides``: settings of this engine (e.g. ``campaign_max_attempts``)."""
        provider = CloudProvider(self.graph.base_url, max_attempts=1, timeout=timeout)
        self.providers.append(provider)
        engine = CampaignEngine(
            self.app.state.sessionmaker,
            {"cloud": provider, "sandbox": SandboxProvider()},
            self.settings.model_copy(update=overrides),
            pacer=pacer or self.pacer,
            clock=clock,
            poll_seconds=0.05,
        )
        self.engines.append(engine)
        return engine

    async def create(self, ct: CloudTenant, **body: Any) -> dict[str, Any]:
        payload = {
            "name": "Spring sale",
            "template_name": "promo",
            "template_language": "en_US",
            "variables": {
                "field_1": {"type": "contact", "field": "firstname", "fallback": "friend"},
                "field_2": "SPRING",
            },
            "audience": {"all": True},
            "rate_per_second": 1000,
            **body,
        }
        r = await self.client.post(
            ct.tenant.url("/campaigns"), json=payload, headers=ct.tenant.headers
        )
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    async def show(self, ct: CloudTenant, campaign_id: int) -> dict[str, Any]:
        r = await self.client.get(
            ct.tenant.url(f"/campaigns/{campaign_id}"), headers=ct.tenant.headers
        )
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        return data

    async def post(self, ct: CloudTenant, campaign_id: int, action: str) -> httpx.Response:
        return await self.client.post(
            ct.tenant.url(f"/campaigns/{campaign_id}/{action}"), headers=ct.tenant.headers
        )

    async def state(self, campaign_id: int) -> str:
        """The campaign's state read from the database (polling through the API would spend
        the token's rate limit)."""
        async with self.app.state.sessionmaker() as s:
            campaign = await s.get(Campaign, campaign_id)
            assert campaign is not None
            return campaign.state

    async def recipients(self, campaign_id: int) -> list[CampaignRecipient]:
        async with self.app.state.sessionmaker() as s:
            rows = await s.scalars(
                select(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == campaign_id)
                .order_by(CampaignRecipient.id)
            )
            return list(rows)

    async def messages(self, workspace_id: int) -> list[Message]:
        async with self.app.state.sessionmaker() as s:
            rows = await s.scalars(
                select(Message).where(Message.workspace_id == workspace_id).order_by(Message.id)
            )
            return list(rows)

    async def close(self) -> None:
        for engine in self.engines:
            await engine.close()
        for provider in self.providers:
            await provider.close()


@pytest.fixture
async def campaigns(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    messaging: Messaging,
    cloud: FakeGraphServer,
    settings: Settings,
) -> AsyncIterator[Campaigns]:
    helper = Campaigns(app, client, factory, messaging, cloud, settings)
    yield helper
    await helper.close()
