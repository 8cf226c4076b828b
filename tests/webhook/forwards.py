"""Helpers for Meta webhook forward tests: forwards through the admin API, Meta's
deliveries through ``/webhooks/whatsapp`` and the worker, forwards to the real receiver."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import Tenant
from tests.inbound.conftest import Line, Meta
from tests.webhook.conftest import Hooks, Receiver
from xobito.testing.meta_webhooks import build_text_message_webhook


class Forwards:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, hooks: Hooks, meta: Meta):
        self.app = app
        self.client = client
        self.hooks = hooks
        self.meta = meta
        self.receiver: Receiver = hooks.receiver

    def url(self, tenant: Tenant, rest: str = "") -> str:
        return f"/api/admin/workspaces/{tenant.workspace.subdomain}/meta-forwards{rest}"

    async def create(
        self,
        tenant: Tenant,
        fields: list[str] | None = None,
        *,
        path: str | None = None,
        enabled: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"url": self.receiver.url(path or self.hooks.path())}
        if fields is not None:
            body["fields"] = fields
        if enabled is not None:
            body["enabled"] = enabled
        r = await self.client.post(self.url(tenant), json=body, headers=self.hooks.admin)
        assert r.status_code == 201, r.text
        record: dict[str, Any] = r.json()["data"]
        return record

    async def meta_sends(self, payload: dict[str, Any], secret: str) -> None:
        """Meta delivers ``payload``; the worker processes it; the dispatcher forwards."""
        await self.meta.deliver(payload, secret)
        await self.meta.drain()
        await self.hooks.deliver()

    def text(self, line: Line, text: str = "Hello", **kw: Any) -> dict[str, Any]:
        return build_text_message_webhook(
            "14155550123",
            text,
            phone_number_id=line.phone_number_id,
            waba_id=line.waba_id,
            **kw,
        )


def hex_signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def change(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"field": field, "value": value}


def envelope(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": list(entries)}
