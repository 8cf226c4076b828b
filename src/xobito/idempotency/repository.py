"""All SQL about idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.models import IdempotencyKey

# PostgreSQL, on a driver connection: a new key in one statement (None when it exists).
RESERVE_NEW_SQL = """
INSERT INTO idempotency_keys (token_id, key, request_hash, created_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (token_id, key) DO NOTHING
RETURNING id
"""


async def reserve_new(
    driver: Any, token_id: int, key: str, digest: str, now: datetime
) -> int | None:
    row_id = await driver.fetchval(RESERVE_NEW_SQL, token_id, key, digest, now)
    return None if row_id is None else int(row_id)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, token_id: int, key: str) -> IdempotencyKey | None:
        stmt = select(IdempotencyKey).where(
            IdempotencyKey.token_id == token_id, IdempotencyKey.key == key
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def reserve(self, token_id: int, key: str, request_hash: str) -> int:
        row = IdempotencyKey(token_id=token_id, key=key, request_hash=request_hash)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def remove(self, row_id: int) -> None:
        await self.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id))

    async def restart(self, row_id: int, request_hash: str, now: datetime) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id)
            .values(
                request_hash=request_hash, created_at=now, response_status=None, response_body=None
            )
        )

    async def complete(self, row_id: int, status: int, body: bytes) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row_id)
            .values(response_status=status, response_body=body)
        )

    async def purge_older_than(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)
