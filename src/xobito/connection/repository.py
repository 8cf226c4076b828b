"""All SQL about WhatsApp connections and the phone-number routing table."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.ttl_cache import shared_cache
from xobito.models import PhoneNumber, WhatsAppConnection

_OWNERS = shared_cache()
# A webhook's routing keys -> the workspaces each reaches, with their app secrets
# (inbound.signing).
_REACH = shared_cache()
# routing key -> ((workspace id, app secret or None), ...)
Reach = dict[tuple[str, str], tuple[tuple[int, str | None], ...]]


def cached_reach(keys: Sequence[tuple[str, str]]) -> Reach | None:
    found: Reach | None = _REACH.get(tuple(keys))
    return found


def remember_reach(keys: Sequence[tuple[str, str]], reach: Reach) -> None:
    _REACH.put(tuple(keys), reach)


class ConnectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_workspace(self, workspace_id: int) -> WhatsAppConnection | None:
        stmt = select(WhatsAppConnection).where(WhatsAppConnection.workspace_id == workspace_id)
        conn: WhatsAppConnection | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return conn

    async def owner_of(self, phone_number_id: str) -> int | None:
        """The workspace owning a number (cached per process: every webhook asks)."""
        owner: int | None = _OWNERS.get(phone_number_id)
        if owner is None:
            stmt = select(PhoneNumber.workspace_id).where(
                PhoneNumber.phone_number_id == phone_number_id
            )
            owner = (await self.session.execute(stmt)).scalar_one_or_none()
            if owner is not None:
                _OWNERS.put(phone_number_id, owner)
        return owner

    async def numbers_taken_elsewhere(self, workspace_id: int, ids: Sequence[str]) -> set[str]:
        stmt = select(PhoneNumber.phone_number_id).where(
            PhoneNumber.phone_number_id.in_(list(ids)), PhoneNumber.workspace_id != workspace_id
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def set_numbers(self, workspace_id: int, ids: Sequence[str]) -> None:
        _OWNERS.clear()
        _REACH.clear()  # a connect may change numbers, WABA or app secret
        await self.session.execute(
            delete(PhoneNumber).where(PhoneNumber.workspace_id == workspace_id)
        )
        for number in dict.fromkeys(ids):
            self.session.add(PhoneNumber(phone_number_id=number, workspace_id=workspace_id))
        await self.session.flush()

    async def by_waba(self, waba_id: str) -> Sequence[WhatsAppConnection]:
        stmt = select(WhatsAppConnection).where(WhatsAppConnection.waba_id == waba_id)
        return (await self.session.execute(stmt)).scalars().all()

    async def verify_token_matches(self, token: str) -> bool:
        stmt = (
            select(WhatsAppConnection.id).where(WhatsAppConnection.verify_token == token).limit(1)
        )
        return (await self.session.execute(stmt)).first() is not None

    def add(self, conn: WhatsAppConnection) -> None:
        self.session.add(conn)
