"""Inbox fixtures: sandbox conversations through the real paths (admin sandbox inbound,
the send API, the worker), and the webhook receiver for timelines."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory, Tenant
from tests.message.conftest import messaging
from tests.webhook.conftest import hooks, receiver, receiver_server

__all__ = ["Inbox", "hooks", "inbox", "messaging", "receiver", "receiver_server"]


class Inbox:
    def __init__(
        self, app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin: dict[str, str]
    ) -> None:
        self.app = app
        self.client = client
        self.factory = factory
        self.admin = admin

    async def inbound(self, t: Tenant, phone: str, text: str = "Hello", name: str = "Grace") -> str:
        """A customer writes (the worker stores it); returns its wamid."""
        r = await self.client.post(
            f"/api/admin/workspaces/{t.workspace.subdomain}/sandbox/inbound",
            json={"phone_number": phone, "text": text, "profile_name": name},
            headers=self.admin,
        )
        assert r.status_code == 202, r.text
        await self.app.state.worker.drain()
        wamid: str = r.json()["data"]["message_id"]
        return wamid

    async def send(self, t: Tenant, phone: str, text: str = "Hi there") -> httpx.Response:
        r = await self.client.post(
            t.url("/messages/send"),
            json={"phone_number": phone, "message_body": text},
            headers=t.headers,
        )
        await self.app.state.worker.drain()  # the sandbox's statuses
        return r

    async def get(self, t: Tenant, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(t.url(path), params=params, headers=t.headers)

    async def post(self, t: Tenant, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(t.url(path), json=body, headers=t.headers)

    async def chats(self, t: Tenant, **params: Any) -> list[dict[str, Any]]:
        r = await self.get(t, "/chats", **params)
        assert r.status_code == 200, r.text
        data: list[dict[str, Any]] = r.json()["data"]["data"]
        return data


@pytest.fixture
def inbox(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> Inbox:
    return Inbox(app, client, factory, admin_headers)
