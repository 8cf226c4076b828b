"""Reserve a key before the work, complete it in the work's own transaction.

The reservation is committed on its own so a concurrent request with the same key sees it
(409); the stored response is written in the same transaction as the work (by DatabaseRoute,
or for a send on PostgreSQL in the send's one statement, ``message.send_repository``), so a
replay exists exactly when the work was committed.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from xobito.config import Settings
from xobito.idempotency.repository import IdempotencyRepository, reserve_new
from xobito.kit.db import driver_connection
from xobito.kit.errors import Conflict, ReplayResponse, ValidationFailed
from xobito.kit.time import utcnow

IN_PROGRESS = "A request with this idempotency key is in progress"
REUSED = "The idempotency key was already used with a different request."
BAD_KEY = "The idempotency key must be between 1 and 255 printable characters."


def request_hash(request: Request, body: bytes) -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b" ")
    h.update(request.url.path.encode())
    h.update(b"?")
    h.update(request.url.query.encode())
    h.update(b"\n")
    h.update(body)
    return h.hexdigest()


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and key.isprintable()


class IdempotencyService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings

    async def begin(self, token_id: int, key: str, digest: str) -> int:
        """Reserve ``key``; raises a replay, a 409 or a 422 when it is taken."""
        if not valid_key(key):
            raise ValidationFailed({"idempotency_key": [BAD_KEY]})
        # The usual case, a new key, in one statement on PostgreSQL; the rest below.
        async with driver_connection(self.sessionmaker()) as driver:
            if driver is not None:
                row_id = await reserve_new(driver, token_id, key, digest, utcnow())
                if row_id is not None:
                    return row_id
        for _ in range(2):
            async with self.sessionmaker() as session:
                repo = IdempotencyRepository(session)
                existing = await repo.find(token_id, key)
                now = utcnow()
                if existing is None:
                    try:
                        row_id = await repo.reserve(token_id, key, digest)
                        await session.commit()
                        return row_id
                    except IntegrityError:
                        await session.rollback()
                        continue  # lost a race: look again at what the winner wrote
                expired = existing.created_at < now - timedelta(
                    seconds=self.settings.idempotency_ttl_seconds
                )
                stale = existing.response_status is None and existing.created_at < now - timedelta(
                    seconds=self.settings.idempotency_stale_seconds
                )
                if expired or stale:
                    await repo.restart(existing.id, digest, now)
                    await session.commit()
                    return existing.id
                if existing.response_status is None:
                    raise Conflict(IN_PROGRESS)
                if existing.request_hash != digest:
                    raise ValidationFailed({"idempotency_key": [REUSED]})
                raise ReplayResponse(existing.response_status, existing.response_body or b"")
        raise Conflict(IN_PROGRESS)

    async def release(self, row_id: int) -> None:
        """The work failed and was rolled back: free the key so the client can retry."""
        async with self.sessionmaker() as session:
            await IdempotencyRepository(session).remove(row_id)
            await session.commit()

    @staticmethod
    async def complete(session: AsyncSession, row_id: int, status: int, body: bytes) -> None:
        await IdempotencyRepository(session).complete(row_id, status, body)
