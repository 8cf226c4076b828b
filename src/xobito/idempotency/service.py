"""Reserve a key before the work, complete it in the work's own transaction.

The reservation is committed on its own so a concurrent request with the same key sees it
(409); the stored response is written in the same transaction as the work (by DatabaseRoute,
or for a send on PostgreSQL in the send's one statement, ``message.send_repository``), so a
replay exists exactly when the work was committed.

A reservation never outlives its request. It names its owner (``lease.Owner``) and holds for
a lease (``XOBITO_IDEMPOTENCY_LEASE_SECONDS``) that this process renews while the request
runs. A retry finds it free when its request is over in this process, when its process has
exited on this machine, or when its lease lapsed (its process died elsewhere, or lost the
database). A request that fails gives its key back (``release``, retried); if even that
fails, the key is free by those rules all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from xobito.config import Settings
from xobito.idempotency.lease import Holder, Lessor, Owner
from xobito.idempotency.repository import IdempotencyRepository, reserve_new
from xobito.kit.db import driver_connection
from xobito.kit.errors import Conflict, ReplayResponse, ValidationFailed
from xobito.kit.logging import error_text
from xobito.kit.time import utcnow
from xobito.models import IdempotencyKey

IN_PROGRESS = "A request with this idempotency key is in progress"
REUSED = "The idempotency key was already used with a different request."
BAD_KEY = "The idempotency key must be between 1 and 255 printable characters."
# Giving a key back: tries within the request, then in the background until the lease lapses.
RELEASE_DELAYS = (0.05, 0.25)
BACKGROUND_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)

log = structlog.get_logger("xobito.idempotency")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A key reserved for one request: its row and the request's owner name."""

    id: int
    owner: str


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


@dataclass(slots=True)
class _Active:
    row_id: int | None  # None until the reservation's row is written
    lease_until: datetime


class IdempotencyService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.lease = timedelta(seconds=settings.idempotency_lease_seconds)
        self.lessor = Lessor()
        # The reservations of this instance's requests that are still running, by owner.
        self.active: dict[str, _Active] = {}
        self._renewer: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def begin(self, token_id: int, key: str, digest: str) -> Reservation:
        """Reserve ``key``; raises a replay, a 409 or a 422 when it is taken."""
        if not valid_key(key):
            raise ValidationFailed({"idempotency_key": [BAD_KEY]})
        owner = self.lessor.new_owner()
        # Active before the row exists: a request of this process that reads the row at once
        # must see it held.
        self.active[owner] = active = _Active(None, utcnow() + self.lease)
        try:
            row_id = await self._reserve(token_id, key, digest, owner, active)
        except BaseException:
            self.active.pop(owner, None)
            raise
        active.row_id = row_id
        self._ensure_renewer()
        return Reservation(row_id, owner)

    async def _reserve(
        self, token_id: int, key: str, digest: str, owner: str, active: _Active
    ) -> int:
        # The usual case, a new key, in one statement on PostgreSQL; the rest below.
        async with driver_connection(self.sessionmaker()) as driver:
            if driver is not None:
                now = utcnow()
                row_id = await reserve_new(
                    driver, token_id, key, digest, owner, active.lease_until, now
                )
                if row_id is not None:
                    return row_id
        for _ in range(3):
            async with self.sessionmaker() as session:
                repo = IdempotencyRepository(session)
                existing = await repo.find(token_id, key)
                now = utcnow()
                if existing is None:
                    try:
                        row_id = await repo.reserve(
                            token_id, key, digest, owner, active.lease_until
                        )
                        await session.commit()
                        return row_id
                    except IntegrityError:
                        await session.rollback()
                        continue  # lost a race: look again at what the winner wrote
                expired = existing.created_at < now - timedelta(
                    seconds=self.settings.idempotency_ttl_seconds
                )
                if expired or (existing.response_status is None and self._is_free(existing, now)):
                    if await repo.take_over(existing, digest, owner, active.lease_until, now):
                        await session.commit()
                        return existing.id
                    await session.rollback()
                    continue  # another retry took it first: look again
                if existing.response_status is None:
                    raise Conflict(IN_PROGRESS)
                if existing.request_hash != digest:
                    raise ValidationFailed({"idempotency_key": [REUSED]})
                raise ReplayResponse(existing.response_status, existing.response_body or b"")
        raise Conflict(IN_PROGRESS)

    def _is_free(self, row: IdempotencyKey, now: datetime) -> bool:
        """Whether an in-progress reservation's request is gone."""
        if row.owner is None:  # reserved before reservations had owners
            return row.created_at < now - self.lease
        owner = Owner.parse(row.owner)
        if owner is not None:
            if self.lessor.is_mine(owner):
                return row.owner not in self.active
            if self.lessor.holder(owner) is Holder.GONE:
                return True
        return row.lease_until is None or row.lease_until < now

    def finish(self, reservation: Reservation) -> None:
        """The request is over, however it ended: its reservation no longer holds."""
        self.active.pop(reservation.owner, None)

    async def release(self, reservation: Reservation) -> Exception | None:
        """The work failed and was rolled back: give the key back so the client can retry.

        Tried a few times; if the database still refuses, retried in the background, and the
        last error returned (the caller logs it). Never raises: the request's own outcome is
        what the client must see, and a reservation that could not be deleted is free once
        ``finish`` ran anyway.
        """
        error: Exception | None = None
        for delay in (*RELEASE_DELAYS, None):
            try:
                await self._remove(reservation)
                return None
            except Exception as exc:
                error = exc
            if delay is not None:
                await asyncio.sleep(delay)
        self._spawn(self._release_later(reservation))
        return error

    async def _remove(self, reservation: Reservation) -> None:
        async with self.sessionmaker() as session:
            await IdempotencyRepository(session).remove(reservation.id, reservation.owner)
            await session.commit()

    async def _release_later(self, reservation: Reservation) -> None:
        """Keep trying until the lease would have freed the key anyway."""
        waited = 0.0
        for delay in BACKGROUND_DELAYS:
            if waited >= self.lease.total_seconds():
                return
            await asyncio.sleep(delay)
            waited += delay
            with contextlib.suppress(Exception):
                await self._remove(reservation)
                log.info("idempotency_released_late", key_id=reservation.id)
                return

    async def complete(
        self, session: AsyncSession, reservation: Reservation, status: int, body: bytes
    ) -> None:
        await IdempotencyRepository(session).complete(
            reservation.id, reservation.owner, status, body
        )

    # ---- leases -----------------------------------------------------------------------------

    @property
    def renew_every(self) -> float:
        return self.lease.total_seconds() / 3

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(
                self._renew_forever(), name="xobito-idempotency-leases"
            )

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                await self.renew_due(utcnow())
            except Exception as exc:  # the database is away: try again next time
                log.warning("idempotency_lease_renewal_failed", error=error_text(exc))

    async def renew_due(self, now: datetime) -> int:
        """Extend the leases of running requests that would lapse before the next round
        but one; returns how many. Requests shorter than a third of the lease need none."""
        horizon = now + timedelta(seconds=2 * self.renew_every)
        due = [
            (owner, active)
            for owner, active in list(self.active.items())
            if active.row_id is not None and active.lease_until < horizon
        ]
        if not due:
            return 0
        until = now + self.lease
        async with self.sessionmaker() as session:
            repo = IdempotencyRepository(session)
            for owner, active in due:
                assert active.row_id is not None
                await repo.renew(active.row_id, owner, until)
            await session.commit()
        for _, active in due:
            active.lease_until = until
        return len(due)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        """Stop renewing and retrying (process shutdown)."""
        tasks = [t for t in (self._renewer, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._renewer = None
