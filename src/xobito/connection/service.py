"""Connecting a workspace to WhatsApp and resolving what a send needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.connection.repository import ConnectionRepository
from xobito.connection.schemas import ConnectIn, connect_rules
from xobito.kit.errors import ValidationFailed
from xobito.kit.ttl_cache import shared_cache
from xobito.kit.validation import merge, parse
from xobito.models import WhatsAppConnection, Workspace
from xobito.whatsapp.base import ConnectionInfo

_LINKS = shared_cache()
NOT_CONNECTED = "This workspace is not connected to WhatsApp."
# Sandbox numbers are synthetic 15-digit ids, one per workspace.
SANDBOX_NUMBER_BASE = 900_000_000_000_000


@dataclass(frozen=True, slots=True)
class Link:
    """What a send needs: which provider, and the connection's credentials."""

    provider: str
    info: ConnectionInfo
    phone_number_ids: tuple[str, ...]


def sandbox_number(workspace_id: int) -> str:
    return str(SANDBOX_NUMBER_BASE + workspace_id)


class ConnectionService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = ConnectionRepository(session)

    async def connect(self, workspace: Workspace, raw: Any) -> WhatsAppConnection:
        data, errors, values = parse(ConnectIn, raw)
        numbers = values.get("phone_number_ids") or []
        extra = connect_rules(raw, values)
        taken = await self.repo.numbers_taken_elsewhere(workspace.id, numbers) if numbers else set()
        for i, number in enumerate(numbers):
            if number in taken:
                extra[f"phone_number_ids.{i}"] = [
                    f"The phone number ids.{i} has already been taken."
                ]
        if errors or extra or data is None:
            raise ValidationFailed(merge(ConnectIn, errors, extra))
        if data.provider == "sandbox" and not data.phone_number_ids:
            ids = [sandbox_number(workspace.id)]
        else:
            ids = list(dict.fromkeys(data.phone_number_ids or []))
        conn = await self.repo.for_workspace(workspace.id)
        if conn is None:
            conn = WhatsAppConnection(workspace_id=workspace.id)
            self.repo.add(conn)
        conn.provider = data.provider
        conn.waba_id = data.waba_id or (
            f"sandbox-{workspace.id}" if data.provider == "sandbox" else None
        )
        conn.phone_number_ids = ids
        conn.primary_phone_number_id = data.primary_phone_number_id or ids[0]
        # Secrets (and the app id) are only replaced when given, so a re-connect can change
        # the numbers alone.
        for name in ("access_token", "app_secret", "verify_token", "app_id"):
            if getattr(data, name) is not None:
                setattr(conn, name, getattr(data, name))
        workspace.whatsapp_provider = data.provider
        _LINKS.clear()
        await self.repo.set_numbers(workspace.id, ids)
        secret_names = ("access_token", "app_secret", "verify_token")
        given = sorted(k for k in secret_names if getattr(data, k))
        secrets_note = f"; new {', '.join(k.replace('_', ' ') for k in given)}" if given else ""
        note(
            workspace.id,
            "whatsapp.connected",
            f"Connected WhatsApp ({data.provider}, numbers {', '.join(ids)}{secrets_note})",
            "whatsapp_connection",
            workspace.id,
        )
        return conn

    async def connect_sandbox(self, workspace: Workspace) -> WhatsAppConnection:
        return await self.connect(workspace, {"provider": "sandbox"})

    async def link(self, workspace_id: int, from_phone_number_id: str | None = None) -> Link | None:
        """What a send needs; cached per process like tokens (every send reads it)."""

        async def load() -> Link | None:
            conn = await self.repo.for_workspace(workspace_id)
            if conn is None:
                return None
            number = from_phone_number_id or conn.primary_phone_number_id or ""
            return Link(
                conn.provider,
                ConnectionInfo(number, conn.waba_id or "", conn.access_token or ""),
                tuple(conn.phone_number_ids),
            )

        # A session in a transaction holds a connection: it must not wait on another load.
        wait = not self.repo.session.in_transaction()
        link: Link | None = await _LINKS.load((workspace_id, from_phone_number_id), load, wait=wait)
        return link
