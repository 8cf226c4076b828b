"""Who may sign a Meta webhook: the app secrets of every workspace the payload reaches.

Every webhook asks, so the answer for a payload's routing keys (its phone number ids, and
the WABA ids of its number-less changes) is cached per process like connection owners; a
connection change in this process clears it at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.connection.repository import ConnectionRepository, cached_signers, remember_signers
from xobito.whatsapp.webhooks import signature_matches

RoutingKey = tuple[str, str]  # ("number", phone_number_id) | ("waba", waba_id)


def changes(payload: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(entry.id, change.value)`` of every well-formed change; anything else is skipped."""
    out: list[tuple[str, dict[str, Any]]] = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        found = entry.get("changes") if isinstance(entry, dict) else None
        for change in found if isinstance(found, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                out.append((str(entry.get("id", "")), value))
    return out


def routing_keys(payload: Any) -> tuple[RoutingKey, ...]:
    """A change is routed by its ``metadata.phone_number_id``; a change without one (a
    template status update) reaches the workspaces connected to its WABA (``entry.id``)."""
    keys: set[RoutingKey] = set()
    for waba_id, value in changes(payload):
        metadata = value.get("metadata")
        number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if number:
            keys.add(("number", str(number)))
        elif waba_id:
            keys.add(("waba", waba_id))
    return tuple(sorted(keys))


async def signers_of(
    session: AsyncSession, keys: tuple[RoutingKey, ...]
) -> tuple[list[str | None], bool]:
    """The app secret of every workspace the keys reach (``None``: one has none), and
    whether every key reached a workspace (only then is the answer cached: a number
    connected a moment ago must work at once)."""
    repo = ConnectionRepository(session)
    workspaces: set[int] = set()
    complete = True
    for kind, value in keys:
        if kind == "number":
            owner = await repo.owner_of(value)
            found = {owner} if owner is not None else set()
        else:
            found = {c.workspace_id for c in await repo.by_waba(value)}
        complete = complete and bool(found)
        workspaces |= found
    signers: list[str | None] = []
    for workspace_id in sorted(workspaces):
        conn = await repo.for_workspace(workspace_id)
        signers.append(conn.app_secret if conn is not None else None)
    return signers, complete


class WebhookSigners:
    """Checks ``X-Hub-Signature-256`` against the app-level secret or the connections'."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def accepts(self, body: bytes, header: str, payload: Any, app_secret: str | None) -> bool:
        """Signed with the app-level secret, or with a connection's app secret that is the
        secret of every workspace the payload reaches: one workspace's secret never lets a
        payload into another workspace."""
        if app_secret and signature_matches(body, header, [app_secret]):
            return True
        keys = routing_keys(payload)
        signers = cached_signers(keys)
        if signers is None:
            async with self.sessionmaker() as session:
                signers, complete = await signers_of(session, keys)
            if complete:
                remember_signers(keys, signers)
        return bool(signers) and all(
            secret is not None and signature_matches(body, header, [secret]) for secret in signers
        )
