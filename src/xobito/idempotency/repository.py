"""All SQL about idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import IdempotencyKey

# PostgreSQL, on a driver connection: a new key in one statement (None when it exists).
RESERVE_NEW_SQL = """
INSERT INTO idempotency_keys (token_id, key, request_hash, owner, lease_until, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (token_id, key) DO NOTHING
RETURNING id
"""


async def reserve_new(
    driver: Any,
    token_id: int,
    key: str,
    digest: str,
    owner: str,
    lease_until: datetime,
    now: datetime,
) -> int | None:
    row_id = await driver.fetchval(RESERVE_NEW_SQL, token_id, key, digest, owner, lease_until, now)
    return None if row_id is None else int(row_id)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, token_id: int, key: str) -> IdempotencyKey | None:
        stmt = select(IdempotencyKey).where(
            IdempotencyKey.token_id == token_id, IdempotencyKey.key == key
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def reserve(
        self, token_id: int, key: str, request_hash: str, owner: str, lease_until: datetime
    ) -> int:
        row = IdempotencyKey(
            token_id=token_id,
            key=key,
            request_hash=request_hash,
            owner=owner,
            lease_until=lease_until,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def take_over(
        self,
        found: IdempotencyKey,
        request_hash: str,
        owner: str,
        lease_until: datetime,
        now: datetime,
    ) -> bool:
        """Start the key afresh for ``owner``, unless someone changed it since it was read."""
        result = await self.session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == found.id,
                IdempotencyKey.owner.is_not_distinct_from(found.owner),
                IdempotencyKey.created_at == found.created_at,
                IdempotencyKey.response_status.is_not_distinct_from(found.response_status),
            )
            .values(
                request_hash=request_hash,
                owner=owner,
                lease_until=lease_until,
                created_at=now,
                response_status=None,
                response_body=None,
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result) == 1

    async def remove(self, row_id: int, owner: str) -> int:
        """Delete an in-progress reservation of ``owner`` (not one another request took)."""
        result = await self.session.execute(
            delete(IdempotencyKey)
            .where(
                IdempotencyKey.id == row_id,
                IdempotencyKey.owner == owner,
                IdempotencyKey.response_status.is_(None),
            )
            .execution_options(synchronize_session=False)
        )
        return _count(result)

    async def renew(self, row_id: int, owner: str, lease_until: datetime) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id, IdempotencyKey.owner == owner)
            .values(lease_until=lease_until)
            .execution_options(synchronize_session=False)
        )

    async def complete(self, row_id: int, owner: str, status: int, body: bytes) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id, IdempotencyKey.owner == owner)
            .values(response_status=status, response_body=body)
            .execution_options(synchronize_session=False)
        )

    async def purge_older_than(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        )
        return _count(result)
