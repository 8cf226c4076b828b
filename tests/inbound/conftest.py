"""Helpers for receiving from Meta: connected workspaces, signed deliveries, database reads.

Every helper goes through the real app: connections are made with the admin API, webhooks
are POSTed signed to ``/webhooks/whatsapp``, and the worker is driven with ``drain()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from tests.factories import Factory, Tenant
from xobito.kit.time import utcnow
from xobito.models import Chat, Contact, InboxEvent, Job, Message, Template
from xobito.testing.meta_webhooks import SIGNATURE_HEADER, sign_payload

WEBHOOK = "/webhooks/whatsapp"


@dataclass
class Line:
    """A workspace connected to the cloud provider with one business number."""

    tenant: Tenant
    phone_number_id: str
    waba_id: str
    app_secret: str
    verify_token: str

    @property
    def workspace_id(self) -> int:
        return self.tenant.workspace.id


class Meta:
    """Plays Meta: connects workspaces, signs and POSTs webhooks, reads what they caused."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin: Any):
        self.app = app
        self.client = client
        self.factory = factory
        self.admin = admin
        self._n = 0

    async def line(
        self,
        phone_number_id: str | None = None,
        *,
        waba_id: str | None = None,
        app_secret: str | None = None,
        verify_token: str | None = None,
        provider: str = "cloud",
    ) -> Line:
        self._n += 1
        tenant = await self.factory.tenant()
        line = Line(
            tenant,
            phone_number_id or f"10654035224{self._n:04d}",
            waba_id or f"41956125791{self._n:04d}",
            app_secret or f"app-secret-{self._n}",
            verify_token or f"verify-token-{self._n}",
        )
        body = {
            "provider": provider,
            "waba_id": line.waba_id,
            "phone_number_ids": [line.phone_number_id],
            "access_token": f"EAAG-token-{self._n}",
            "app_secret": line.app_secret,
            "verify_token": line.verify_token,
        }
        url = f"/api/admin/workspaces/{tenant.workspace.subdomain}/whatsapp"
        resp = await self.client.put(url, json=body, headers=self.admin)
        assert resp.status_code == 200, resp.text
        return line

    async def post(
        self,
        payload: Any,
        secret: str | None,
        *,
        raw: bytes | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """POST ``payload`` (or ``raw``) signed with ``secret`` (no header when None)."""
        body = raw if raw is not None else orjson.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        elif secret is not None:
            headers[SIGNATURE_HEADER] = sign_payload(body, secret)
        return await self.client.post(WEBHOOK, content=body, headers=headers)

    async def deliver(self, payload: Any, secret: str) -> None:
        resp = await self.post(payload, secret)
        assert resp.status_code == 200, resp.text

    async def drain(self) -> int:
        done: int = await self.app.state.worker.drain()
        return done

    # -- reads (a short session each; never held across a request or a drain) -------------

    async def scalars(self, stmt: Any) -> list[Any]:
        async with self.app.state.sessionmaker() as s:
            return list((await s.execute(stmt)).scalars().all())

    async def count(self, model: Any, *where: Any) -> int:
        async with self.app.state.sessionmaker() as s:
            stmt = select(func.count()).select_from(model).where(*where)
            return int((await s.execute(stmt)).scalar_one())

    async def counts(self) -> dict[str, int]:
        return {
            "inbox_events": await self.count(InboxEvent),
            "messages": await self.count(Message),
            "contacts": await self.count(Contact),
            "chats": await self.count(Chat),
            "jobs": await self.count(Job),
        }

    async def inbox(self) -> list[InboxEvent]:
        return await self.scalars(select(InboxEvent).order_by(InboxEvent.id))

    async def messages(self, workspace_id: int | None = None) -> list[Message]:
        stmt = select(Message).order_by(Message.id)
        if workspace_id is not None:
            stmt = stmt.where(Message.workspace_id == workspace_id)
        return await self.scalars(stmt)

    async def message(self, wamid: str) -> Message:
        (found,) = await self.scalars(select(Message).where(Message.wamid == wamid))
        return found  # type: ignore[no-any-return]

    async def contacts(self, workspace_id: int) -> list[Contact]:
        stmt = select(Contact).where(Contact.workspace_id == workspace_id).order_by(Contact.id)
        return await self.scalars(stmt)

    async def chat(self, contact_id: int) -> Chat:
        (found,) = await self.scalars(select(Chat).where(Chat.contact_id == contact_id))
        return found  # type: ignore[no-any-return]

    async def jobs(self, kind: str | None = None) -> list[Job]:
        stmt = select(Job).order_by(Job.id)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        return await self.scalars(stmt)

    async def make_jobs_due(self) -> None:
        """Instead of waiting for a retry's ``run_at``: make every waiting job due now."""
        async with self.app.state.sessionmaker() as s:
            await s.execute(update(Job).where(Job.finished_at.is_(None)).values(run_at=utcnow()))
            await s.commit()

    async def outbound(
        self, line: Line, wamid: str, status: str = "sent", phone: str = "+14155550100"
    ) -> Message:
        """An outbound message as a committed send leaves it (contact and chat included)."""
        contact = await self.factory.contact(line.tenant, phone=phone)
        async with self.app.state.sessionmaker() as s:
            chat = Chat(workspace_id=line.workspace_id, contact_id=contact["id"])
            s.add(chat)
            await s.flush()
            message = Message(
                workspace_id=line.workspace_id,
                chat_id=chat.id,
                contact_id=contact["id"],
                wamid=wamid,
                direction="outbound",
                type="text",
                phone=phone,
                phone_number_id=line.phone_number_id,
                text="Hello",
                status=status,
                sent_at=utcnow() if status == "sent" else None,
            )
            s.add(message)
            await s.commit()
            return message


@pytest.fixture
def meta(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> Meta:
    return Meta(app, client, factory, admin_headers)


@pytest.fixture
def app_settings(app: FastAPI) -> Iterator[Callable[..., None]]:
    """``app_settings(meta_app_secret=...)`` swaps the app's settings; restored afterwards."""
    original = app.state.settings

    def apply(**update: Any) -> None:
        app.state.settings = original.model_copy(update=update)

    yield apply
    app.state.settings = original


def at(unix: int | str) -> datetime:
    """The instant Meta's unix-seconds ``timestamp`` names."""
    return datetime.fromtimestamp(int(unix), tz=UTC)


# -- template status updates (WABA-level changes) -------------------------------------------


def template_update(waba_id: str, template_id: int, event: str) -> dict[str, Any]:
    value = {
        "event": event,
        "message_template_id": template_id,
        "message_template_name": "order_update",
        "message_template_language": "en_US",
        "reason": "NONE",
    }
    change = {"value": value, "field": "message_template_status_update"}
    entry = {"id": waba_id, "time": 1750000000, "changes": [change]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


async def add_template(app: FastAPI, line: Line, template_id: str, status: str) -> None:
    async with app.state.sessionmaker() as s:
        s.add(
            Template(
                workspace_id=line.workspace_id,
                template_id=template_id,
                template_name="order_update",
                language="en_US",
                status=status,
                category="UTILITY",
            )
        )
        await s.commit()


async def template_statuses(meta: Meta) -> dict[int, str]:
    rows = await meta.scalars(select(Template).order_by(Template.id))
    return {t.workspace_id: t.status for t in rows}
