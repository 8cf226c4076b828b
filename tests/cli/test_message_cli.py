"""``xobito message timeline``: a message's timeline from the command line."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI

from tests.cli.test_cli import Cli, flat
from tests.factories import Factory

PHONE = "+14155550144"


async def test_timeline_of_a_sent_message(
    cli: Cli,
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    admin_headers: dict[str, str],
) -> None:
    t = await factory.tenant()
    r = await client.post(
        f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
        json={"phone_number": PHONE, "text": "Hi", "profile_name": "Grace"},
        headers=admin_headers,
    )
    assert r.status_code == 202
    await app.state.worker.drain()
    r = await client.post(
        t.url("/messages/send"),
        json={"phone_number": PHONE, "message_body": "Hello Grace"},
        headers=t.headers,
    )
    wamid = r.json()["data"]["message_id"]
    await app.state.worker.drain()

    result = await asyncio.to_thread(cli.ok, "message", "timeline", t.workspace.subdomain, wamid)
    out = flat(result.stdout)
    assert f"({wamid}): outbound text, read" in out
    assert "created Requested through the API with the token 'test'" in out
    assert "graph_response Meta accepted it (HTTP 200)" in out
    assert "status Meta reported read" in out
    data = json.loads(
        (
            await asyncio.to_thread(
                cli.ok, "message", "timeline", t.workspace.subdomain, wamid, "--json"
            )
        ).stdout
    )
    assert data["message"]["message_id"] == wamid
    assert [e["kind"] for e in data["entries"]][:3] == [
        "created",
        "graph_request",
        "graph_response",
    ]

    other = await factory.tenant()
    missing = await asyncio.to_thread(cli, "message", "timeline", other.workspace.subdomain, wamid)
    assert missing.exit_code == 1
    assert "Message not found" in missing.output
