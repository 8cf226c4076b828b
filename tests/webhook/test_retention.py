"""Attempt logs are kept 30 days (docs/webhooks.md): the worker's hourly ``purge`` removes older
ones."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from tests.factories import Factory
from tests.webhook.conftest import Hooks, Receiver
from xobito.config import Settings
from xobito.jobs.maintenance import purge
from xobito.kit.time import utcnow
from xobito.models import WebhookDelivery, WebhookEvent, WebhookLog


async def test_purge_deletes_logs_older_than_30_days_and_keeps_newer(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    hooks: Hooks,
    receiver: Receiver,
    settings: Settings,
) -> None:
    t = await factory.tenant()
    await hooks.endpoint(t, "/p")
    for name in ("Old", "Edge", "New"):
        await client.post(t.url("/sources"), json={"name": name}, headers=t.headers)
    await hooks.deliver()
    now = utcnow()
    old, edge, new = await hooks.logs()
    ages = {old.id: timedelta(days=31), edge.id: timedelta(days=29, hours=23), new.id: timedelta()}
    for log_id, age in ages.items():
        await hooks.session.execute(
            update(WebhookLog).where(WebhookLog.id == log_id).values(created_at=now - age)
        )
    await hooks.session.commit()

    assert settings.webhook_log_retention_days == 30
    async with app.state.sessionmaker() as s:
        counts = await purge(s, settings, now)
        await s.commit()
    assert counts["webhook_logs"] == 1
    assert sorted(x.id for x in await hooks.logs()) == sorted([edge.id, new.id])
    # The events and deliveries themselves are not attempt logs: they stay.
    assert await hooks.count(WebhookEvent) == 3
    assert await hooks.count(WebhookDelivery) == 3

    async with app.state.sessionmaker() as s:  # idempotent
        assert (await purge(s, settings, now))["webhook_logs"] == 0
