"""A stored webhook body read into operations, each for a workspace its scope allows.

Whatever a body names, an operation is only made for a workspace its signature verified
(``inbound.scope``). What is left out (a change outside the scope, a message that cannot be
stored) is logged and noted, for the body's inbox row.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.connection.repository import ConnectionRepository
from xobito.inbound.parsing import Inbound, Refused, parse_message, profile_names
from xobito.inbound.scope import Scope
from xobito.inbound.signing import changes, phone_number_id, reach_of, routing_keys
from xobito.template.schemas import STATUSES as TEMPLATE_STATUSES
from xobito.webhook.forwarding import Forward, forwards_of

log = structlog.get_logger("xobito.inbound")
TEMPLATE_FIELD = "message_template_status_update"


class StatusOp(NamedTuple):
    workspace_id: int
    status: dict[str, Any]


class MessageOp(NamedTuple):
    workspace_id: int
    number: str  # our phone_number_id it was sent to
    inbound: Inbound
    profile_name: str | None


class TemplateOp(NamedTuple):
    workspace_ids: list[int]  # the WABA's workspaces within the body's scope
    template_id: str
    event: str


class ForwardOp(NamedTuple):
    """The body's share for each workspace's Meta webhook forwards (``webhook.forwarding``)."""

    forwards: list[Forward]


Op = StatusOp | MessageOp | TemplateOp | ForwardOp  # what a stored body does, in order


class BodyReader:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.connections = ConnectionRepository(session)

    async def read(self, body: bytes, stored_scope: Scope | None) -> tuple[list[Op], list[str]]:
        """The body's operations in order, and notes on what was left out."""
        payload = orjson.loads(body)
        scope = stored_scope or await self._covered(payload)
        ops: list[Op] = []
        notes: list[str] = []
        for waba_id, field, value in changes(payload):
            if field == TEMPLATE_FIELD:
                ops += await self._template(scope, waba_id, value, notes)
            elif field == "messages":
                ops += await self._messages(scope, waba_id, value, notes)
        forwards = await forwards_of(self.session, payload, scope)
        if forwards:
            ops.append(ForwardOp(forwards))
        return ops, notes

    async def _covered(self, payload: Any) -> Scope:
        """What the signature of a body stored without a scope covered: every workspace its
        routing keys reach (the rule it was accepted under)."""
        reach, _ = await reach_of(self.session, routing_keys(payload))
        return Scope.of({ws for found in reach.values() for ws, _ in found})

    async def _messages(
        self, scope: Scope, waba_id: str, value: dict[str, Any], notes: list[str]
    ) -> list[Op]:
        number = phone_number_id(value)
        workspace_id = await self.connections.owner_of(number) if number else None
        if number is None or workspace_id is None:
            log.info("inbound_unknown_number", phone_number_id=number)
            return []
        if not scope.allows(workspace_id):
            not_authorised(notes, "messages", waba_id, phone_number_id=number)
            return []
        ops: list[Op] = []
        names = profile_names(value)
        for raw in value.get("messages") or []:
            parsed = parse_message(raw) if isinstance(raw, dict) else Refused(None, "not an object")
            if isinstance(parsed, Refused):
                log.warning("inbound_message_refused", wamid=parsed.wamid, reason=parsed.reason)
                notes.append(parsed.note())
            else:
                ops.append(MessageOp(workspace_id, number, parsed, names.get(parsed.wa_id)))
        for status in value.get("statuses") or []:
            if isinstance(status, dict):
                ops.append(StatusOp(workspace_id, status))
        return ops

    async def _template(
        self, scope: Scope, waba_id: str, value: dict[str, Any], notes: list[str]
    ) -> list[Op]:
        event = str(value.get("event", "")).upper()
        template_id = str(value.get("message_template_id", ""))
        if event not in TEMPLATE_STATUSES or not template_id:
            return []
        connected = [c.workspace_id for c in await self.connections.by_waba(waba_id)]
        workspaces = [ws for ws in connected if scope.allows(ws)]
        if not connected:
            log.info("inbound_unknown_waba", waba_id=waba_id)
            return []
        if not workspaces:
            not_authorised(notes, TEMPLATE_FIELD, waba_id, template_id=template_id)
            return []
        return [TemplateOp(workspaces, template_id, event)]


def not_authorised(notes: list[str], field: str, waba_id: str, **ids: str) -> None:
    """A change naming workspaces its signature did not verify: applied to none."""
    log.warning("inbound_change_not_authorised", field=field, waba_id=waba_id, **ids)
    named = ", ".join(f"{k} {v}" for k, v in ids.items())
    notes.append(f"{field} change for WABA {waba_id} ({named}) not applied: not signed by its app")
