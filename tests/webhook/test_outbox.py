"""The transactional outbox (docs/webhooks.md): events are written in the transaction of the change,
so a committed change always has its event and a rolled-back one never does; delivery never
happens inside the request."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.webhook.conftest import Hooks, Receiver
from xobito.contact.service import ContactService
from xobito.label.service import SOURCES, LabelService
from xobito.models import WebhookDelivery, WebhookEvent


async def test_a_committed_change_has_its_event_and_nothing_is_sent_during_the_request(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/a")
    await hooks.endpoint(t, "/b")
    r = await client.post(t.url("/sources"), json={"name": "Web"}, headers=t.headers)
    assert r.status_code == 201
    assert receiver.hits == []  # the request only wrote the outbox
    assert await hooks.count(WebhookEvent) == 1
    assert await hooks.count(WebhookDelivery, WebhookDelivery.state == "pending") == 2
    await hooks.deliver()
    assert len(receiver.hits) == 2


async def test_a_failed_validation_emits_nothing(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t)
    r = await client.post(
        t.url("/contacts"), json={"firstname": "Ada", "phone": "+14155550101"}, headers=t.headers
    )
    assert r.status_code == 422
    assert await hooks.count(WebhookEvent) == 0
    assert await hooks.count(WebhookDelivery) == 0


async def test_a_rolled_back_change_leaves_no_event(
    app: FastAPI, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    status, source = await factory.status(t), await factory.source(t)
    await hooks.endpoint(t, "/x")
    body = {
        "firstname": "Ada",
        "phone": "+14155550101",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
    }
    async with app.state.sessionmaker() as s:
        record = await ContactService(s, t.info).create(body)
        assert record["id"]
        # Inside the transaction the event and its delivery exist ...
        assert len((await s.execute(WebhookEvent.__table__.select())).all()) == 1
        await s.rollback()
    # ... and they went with the rollback.
    assert await hooks.count(WebhookEvent) == 0
    assert await hooks.count(WebhookDelivery) == 0
    assert await hooks.deliver() == 0
    assert receiver.hits == []


async def test_an_error_after_the_change_rolls_back_change_and_event(
    app: FastAPI, factory: Factory, hooks: Hooks
) -> None:
    """Two changes in one transaction, the second refused: neither the first change nor its
    event survive."""
    t = await factory.tenant()
    await hooks.endpoint(t)
    with pytest.raises(Exception, match="Validation failed"):
        async with app.state.sessionmaker() as s, s.begin():
            labels = LabelService(SOURCES, s, t.workspace.id)
            await labels.create({"name": "Web"})
            await labels.create({"name": "Web"})  # taken: ValidationFailed
    assert await hooks.count(WebhookEvent) == 0
    r = await hooks.client.get(t.url("/sources"), headers=t.headers)
    assert r.json()["data"]["total"] == 0


async def test_concurrent_changes_each_commit_exactly_one_event(
    client: httpx.AsyncClient, factory: Factory, hooks: Hooks, receiver: Receiver
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/c")
    names = [f"Source {i}" for i in range(20)]
    responses = await asyncio.gather(
        *(client.post(t.url("/sources"), json={"name": n}, headers=t.headers) for n in names)
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert await hooks.count(WebhookEvent) == 20
    await hooks.deliver()
    assert sorted(h.json["data"]["attributes"]["name"] for h in receiver.hits) == sorted(names)
    assert len(receiver.event_ids()) == 20
