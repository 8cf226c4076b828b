"""Meta webhook forwarding: a workspace's share of each stored Meta webhook body, sent on
to its forward endpoints through the outbox (same deliveries, retries, logs and
redelivery as Xobito's own webhooks, and signed the same two ways).

Each forward carries only the changes routed to that workspace (by the change's
``metadata.phone_number_id``, else its WABA) that its body's signature verified for it
(``inbound.scope``), one event per workspace and field, in Meta's own envelope::

    {"object": "whatsapp_business_account",
     "entry": [{"id": "<WABA id>", "time": ...,
                "changes": [{"field": "messages", "value": {...}}]}]}

The values are Meta's, untouched; entries and changes of other workspaces or other fields
are left out. The event id is derived from the workspace, the field and the forwarded
bytes, so a body Meta delivers twice is forwarded once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.repository import ConnectionRepository
from xobito.inbound.scope import Scope
from xobito.kit.time import utcnow
from xobito.webhook.forward_schemas import TOPIC_PREFIX, topic
from xobito.webhook.repository import EndpointRepository, EventRepository

MAX_FIELD = 64 - len(TOPIC_PREFIX)  # topics are at most 64 characters


@dataclass
class Forward:
    """One workspace's changes of one field from one body, for its subscribed endpoints."""

    workspace_id: int
    field: str
    endpoints: list[int]
    envelope: dict[str, Any]
    entries: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sources: list[int] = dataclasses.field(default_factory=list)  # id() of each entry's original

    def body(self) -> bytes:
        return orjson.dumps({**self.envelope, "entry": self.entries})

    def event_id(self, body: bytes) -> str:
        digest = hashlib.sha256(f"{self.workspace_id}:{self.field}:".encode() + body)
        return "evt_" + digest.hexdigest()[:32]


async def _routed(
    connections: ConnectionRepository, waba_id: str, value: dict[str, Any]
) -> list[int]:
    metadata = value.get("metadata")
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    if number:
        owner = await connections.owner_of(str(number))
        return [owner] if owner is not None else []
    if not waba_id:
        return []
    return [c.workspace_id for c in await connections.by_waba(waba_id)]


async def forwards_of(session: AsyncSession, payload: Any, scope: Scope) -> list[Forward]:
    """What a stored body forwards: per workspace (within ``scope``) and field, the changes
    routed to it, for the endpoints subscribed to that field."""
    entries = payload.get("entry") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return []
    connections = ConnectionRepository(session)
    envelope = {"object": payload.get("object", "whatsapp_business_account")}
    found: dict[tuple[int, str], Forward] = {}
    listening: dict[tuple[int, str], list[int]] = {}
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            continue
        waba_id = str(entry.get("id", ""))
        for change in changes:
            kind = change.get("field") if isinstance(change, dict) else None
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(kind, str) or not 0 < len(kind) <= MAX_FIELD:
                continue
            if not isinstance(value, dict):
                continue
            for workspace_id in await _routed(connections, waba_id, value):
                if not scope.allows(workspace_id):
                    continue
                key = (workspace_id, kind)
                if key not in listening:
                    repo = EndpointRepository(session, workspace_id)
                    listening[key] = await repo.subscribed(topic(kind))
                if not listening[key]:
                    continue
                forward = found.setdefault(
                    key, Forward(workspace_id, kind, listening[key], envelope)
                )
                _add(forward, entry, change)
    return list(found.values())


def _add(forward: Forward, entry: dict[str, Any], change: dict[str, Any]) -> None:
    """The change under its entry (the entry's other keys, such as ``time``, kept)."""
    if forward.sources and forward.sources[-1] == id(entry):
        forward.entries[-1]["changes"].append(change)
        return
    copied = {k: v for k, v in entry.items() if k != "changes"}
    copied["changes"] = [change]
    forward.entries.append(copied)
    forward.sources.append(id(entry))


async def emit_forwards(session: AsyncSession, forwards: Sequence[Forward]) -> int:
    """Write the forwards' events and deliveries in the caller's transaction (one INSERT
    each); forwards already in the outbox (Meta redelivered the body) are left out.
    Returns how many events were written."""
    prepared: dict[str, tuple[Forward, bytes]] = {}
    for forward in forwards:
        body = forward.body()
        prepared.setdefault(forward.event_id(body), (forward, body))
    if not prepared:
        return 0
    events = EventRepository(session)
    known = await events.existing(list(prepared))
    records = [
        (
            {
                "workspace_id": forward.workspace_id,
                "event_id": event_id,
                "event": forward.field,
                "topic": topic(forward.field),
                "body": body,
            },
            forward.endpoints,
        )
        for event_id, (forward, body) in prepared.items()
        if event_id not in known
    ]
    if records:
        await events.add_many(records, utcnow())
    return len(records)
