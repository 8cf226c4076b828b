"""Who may sign a Meta webhook, and which workspaces the signature lets it change.

A change is routed by its ``metadata.phone_number_id`` (the workspace owning the number), or,
without one, by its WABA (``entry.id``: the workspaces connected to it). A body is accepted
when it is signed with the app-level secret (``Scope`` everyone), or when every routing key
reaches a workspace whose app secret matches the signature; the workspaces that matched are
its scope, stored with the row, and the worker changes nothing outside it (``inbound.scope``).

Every webhook asks, so the workspaces and secrets a payload's routing keys reach are cached
per process like connection owners; a connection change in this process clears it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.connection.repository import (
    ConnectionRepository,
    Reach,
    cached_reach,
    remember_reach,
)
from xobito.inbound.scope import EVERYONE, Scope
from xobito.whatsapp.webhooks import signature_matches

RoutingKey = tuple[str, str]  # ("number", phone_number_id) | ("waba", waba_id)


def changes(payload: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """``(entry.id, change.field, change.value)`` of every well-formed change; anything else
    is skipped (the receiver and the worker read a body through this one function)."""
    out: list[tuple[str, Any, dict[str, Any]]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        found = entry.get("changes") if isinstance(entry, dict) else None
        for change in found if isinstance(found, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                out.append((str(entry.get("id", "")), change.get("field"), value))
    return out


def phone_number_id(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return str(number) if number else None


def routing_key(waba_id: str, value: dict[str, Any]) -> RoutingKey | None:
    number = phone_number_id(value)
    if number:
        return ("number", number)
    return ("waba", waba_id) if waba_id else None


def routing_keys(payload: Any) -> tuple[RoutingKey, ...]:
    keys = {routing_key(waba_id, value) for waba_id, _, value in changes(payload)}
    return tuple(sorted(k for k in keys if k is not None))


async def reach_of(session: AsyncSession, keys: tuple[RoutingKey, ...]) -> tuple[Reach, bool]:
    """Per key, ``(workspace id, app secret or None)`` of every workspace it reaches, and
    whether every key reached one (only then is the answer cached: a number connected a
    moment ago must work at once)."""
    repo = ConnectionRepository(session)
    reach: Reach = {}
    for key in keys:
        kind, value = key
        if kind == "number":
            owner = await repo.owner_of(value)
            conn = await repo.for_workspace(owner) if owner is not None else None
            found = [(owner, conn.app_secret if conn else None)] if owner is not None else []
        else:
            found = [(c.workspace_id, c.app_secret) for c in await repo.by_waba(value)]
        reach[key] = tuple(found)
    return reach, all(reach.values())


def scope_within(reach: Reach, matches: Callable[[str], bool]) -> Scope | None:
    """The workspaces whose secret ``matches`` (a predicate), if every key reached one."""
    workspaces: set[int] = set()
    for found in reach.values():
        signed = {ws for ws, secret in found if secret is not None and matches(secret)}
        if not signed:
            return None
        workspaces |= signed
    return Scope.of(workspaces) if workspaces else None


class WebhookSigners:
    """Checks ``X-Hub-Signature-256`` against the app-level secret or the connections'."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def verify(
        self, body: bytes, header: str, payload: Any, app_secret: str | None
    ) -> Scope | None:
        """The scope the signature grants, or ``None``: not accepted."""
        if app_secret and signature_matches(body, header, [app_secret]):
            return EVERYONE
        keys = routing_keys(payload)
        reach = cached_reach(keys)
        if reach is None:
            async with self.sessionmaker() as session:
                reach, complete = await reach_of(session, keys)
            if complete:
                remember_reach(keys, reach)
        checked: dict[str, bool] = {}  # one HMAC per distinct secret

        def matches(secret: str) -> bool:
            if secret not in checked:
                checked[secret] = signature_matches(body, header, [secret])
            return checked[secret]

        return scope_within(reach, matches)
