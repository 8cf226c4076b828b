"""An API send makes room in its own app's pacer, whatever other apps the process holds.

The pacer was a process-wide one, replaced by the last app created: a send of one app took
its slot in another app's buckets (the campaigns of its own number never made room), and on
Redis used that app's connections from the wrong event loop (the fuzz tests' teardown
failed with "attached to a different loop", and every test after it errored)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.factories import Factory
from xobito.app import create_app
from xobito.campaign.pacing import Bucket, number_key
from xobito.config import Settings
from xobito.connection.service import ConnectionService
from xobito.kit.db import dispose_engine


async def test_an_api_send_makes_room_in_its_own_apps_pacer(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, settings: Settings
) -> None:
    other = create_app(settings)  # e.g. the schemathesis suite's app, created after this one
    try:
        tenant = await factory.tenant(enforce_care_window=False)
        async with app.state.sessionmaker() as session:
            link = await ConnectionService(session).link(tenant.workspace.id)
        assert link is not None
        key = number_key(link.info.phone_number_id)
        pacer = app.state.pacer
        ok, _ = await pacer.reserve([Bucket(key, 0.1)])  # a campaign sends 1 per 10 s
        assert ok
        r = await client.post(
            tenant.url("/messages/send"),
            headers=tenant.headers,
            json={"phone_number": "+14155550123", "message_body": "hello"},
        )
        assert r.status_code == 200, r.text
        # The send took the next slot (in the background): the campaign's next one is now
        # two intervals away, not one. A refused reservation changes nothing, so poll.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            ok, wait = await pacer.reserve([Bucket(key, 0.1)])
            assert not ok
            if wait > 10.0:
                break
            assert loop.time() < deadline, f"the send took no slot of its app's pacer ({wait})"
            await asyncio.sleep(0.02)
    finally:
        await other.state.pacer.close()
        await dispose_engine(other.state.engine)
