"""Delivering outbox events: leased claims, bounded concurrency, batched bookkeeping.

Deliveries to different endpoints proceed concurrently; each endpoint has its own cap, so a
slow or dead endpoint only ever occupies its own slots. A claimed delivery is leased; if the
worker dies, the lease runs out and the delivery is retried (at-least-once; receivers
de-duplicate on ``X-Webhook-Id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp
import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.config import Settings
from xobito.kit.metrics import WEBHOOK_DELIVERIES
from xobito.kit.time import utcnow
from xobito.models import WebhookDelivery, WebhookEndpoint, WebhookLog
from xobito.webhook.repository import Claimed, DeliveryRepository
from xobito.webhook.signing import headers
from xobito.webhook.urls import BLOCKED_MESSAGE, literal_host_allowed, resolver_kwargs

log = structlog.get_logger("xobito.webhooks")
Clock = Callable[[], datetime]
MAX_RETRY_AFTER = 24 * 3600
AUTO_DISABLE_AFTER = timedelta(days=5)


@dataclass(frozen=True, slots=True)
class Attempt:
    claimed: Claimed
    status: int | None
    excerpt: str | None
    error: str | None
    duration_ms: int
    retry_after: int | None
    at: datetime


def retry_after_seconds(value: str | None, now: datetime) -> int | None:
    """A ``Retry-After`` header in either of its forms (delay-seconds or an HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        return max(0, min(MAX_RETRY_AFTER, int(value)))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, min(MAX_RETRY_AFTER, math.ceil((when - now).total_seconds())))


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock = utcnow,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.schedule = list(settings.webhook_retry_schedule)
        self.in_flight: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[Attempt] = []
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            allow = bool(self.settings.webhook_allow_private_urls)
            connector = aiohttp.TCPConnector(
                limit=self.settings.webhook_max_in_flight,
                limit_per_host=0,
                **resolver_kwargs(allow),
            )
            timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()
        if self._session is not None:
            await self._session.close()

    def saturated(self) -> list[int]:
        cap = self.settings.webhook_max_in_flight_per_endpoint
        return [e for e, n in self.in_flight.items() if n >= cap]

    async def pump(self) -> int:
        """Claim what is due (within free slots) and start sending; returns how many."""
        free = self.settings.webhook_max_in_flight - len(self._tasks)
        if free <= 0:
            return 0
        now = self.clock()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds + 5)
        async with self.sessionmaker() as session:
            claimed = await DeliveryRepository(session).claim(free, now, lease, self.saturated())
            await session.commit()
        cap = self.settings.webhook_max_in_flight_per_endpoint
        for c in claimed:
            if self.in_flight[c.endpoint_id] >= cap:
                # Over the endpoint's cap in this claim: give the lease back for later.
                self._results.append(Attempt(c, None, None, None, 0, None, now))
                continue
            self.in_flight[c.endpoint_id] += 1
            task = asyncio.create_task(self._send(c))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(claimed)

    async def _send(self, c: Claimed) -> None:
        started = time.perf_counter()
        status = retry_after = None
        excerpt = error = None
        try:
            if not self.settings.webhook_allow_private_urls and not literal_host_allowed(c.url):
                raise OSError(BLOCKED_MESSAGE)
            hdrs = headers(
                body=c.body, event_id=c.event_id, event=c.event, secrets=c.secrets, now=self.clock()
            )
            async with self._http().post(
                c.url, data=c.body, headers=hdrs, allow_redirects=False
            ) as resp:
                status = resp.status
                excerpt = (await resp.content.read(1024)).decode("utf-8", "replace")
                if status in (429, 503):
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"), self.clock())
        except TimeoutError:
            error = f"Timed out after {self.settings.webhook_timeout_seconds:g} s"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            self.in_flight[c.endpoint_id] -= 1
            if self.in_flight[c.endpoint_id] <= 0:
                del self.in_flight[c.endpoint_id]
        duration = int((time.perf_counter() - started) * 1000)
        self._results.append(
            Attempt(c, status, excerpt, error, duration, retry_after, self.clock())
        )

    def delay_after(self, attempts: int, retry_after: int | None) -> float | None:
        """Seconds until the next try after ``attempts`` failures, or None to give up."""
        if attempts >= len(self.schedule):
            return None
        if retry_after is not None:
            return float(retry_after)
        return float(self.schedule[attempts])

    async def flush(self) -> int:
        """Record finished attempts in one transaction (deliveries, logs, endpoints)."""
        results, self._results = self._results, []
        if not results:
            return 0
        async with self.sessionmaker() as session:
            for a in results:
                await self._record(session, a)
            await session.commit()
        return len(results)

    async def _record(self, session: AsyncSession, a: Attempt) -> None:
        c = a.claimed
        delivery = update(WebhookDelivery).where(WebhookDelivery.id == c.delivery_id)
        if a.status is None and a.error is None:  # never sent (endpoint cap): release
            await session.execute(delivery.values(leased_until=None))
            return
        attempt = c.attempts + 1
        session.add(
            WebhookLog(
                delivery_id=c.delivery_id,
                endpoint_id=c.endpoint_id,
                event_id=c.event_id,
                event=c.event,
                attempt=attempt,
                status_code=a.status,
                response_excerpt=a.excerpt,
                duration_ms=a.duration_ms,
                error=a.error,
                created_at=a.at,
            )
        )
        endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == c.endpoint_id)
        if a.status is not None and 200 <= a.status < 300:
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            await session.execute(
                delivery.values(
                    state="delivered",
                    attempts=attempt,
                    last_status_code=a.status,
                    delivered_at=a.at,
                    leased_until=None,
                )
            )
            await session.execute(
                endpoint.where(WebhookEndpoint.failing_since.is_not(None)).values(
                    failing_since=None
                )
            )
            return
        if a.status == 410:
            WEBHOOK_DELIVERIES.labels("gone").inc()
            await session.execute(
                delivery.values(
                    state="failed", attempts=attempt, last_status_code=410, leased_until=None
                )
            )
            await session.execute(
                endpoint.values(enabled=False, disabled_reason="The endpoint answered 410 Gone.")
            )
            return
        WEBHOOK_DELIVERIES.labels("failed").inc()
        delay = self.delay_after(attempt, a.retry_after)
        values: dict[str, object] = {
            "attempts": attempt,
            "last_status_code": a.status,
            "leased_until": None,
        }
        if delay is None:
            values["state"] = "failed"
        else:
            values["next_attempt_at"] = a.at + timedelta(seconds=delay)
        await session.execute(delivery.values(**values))
        await self._note_failure(session, c.endpoint_id, a.at)

    async def _note_failure(self, session: AsyncSession, endpoint_id: int, at: datetime) -> None:
        endpoint = await session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            return
        if endpoint.failing_since is None:
            endpoint.failing_since = at
        elif endpoint.enabled and at - endpoint.failing_since >= AUTO_DISABLE_AFTER:
            endpoint.enabled = False
            since = endpoint.failing_since.strftime("%Y-%m-%d %H:%M")
            endpoint.disabled_reason = f"Deliveries failed for 5 days in a row (since {since} UTC)."
            log.warning("webhook_endpoint_disabled", endpoint_id=endpoint_id)

    async def run_once(self) -> int:
        """Claim, wait for this round's sends, record them. Used by tests and the CLI."""
        started = await self.pump()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()
        return started

    async def run(self, stop: asyncio.Event, poll: float = 0.05) -> None:
        """The worker loop: keep slots full, record results every ``poll`` seconds."""
        while not stop.is_set():
            try:
                started = await self.pump()
                await self.flush()
            except Exception:
                log.exception("webhook_dispatch_failed")
                started = 0
            if not started:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll)
            else:
                await asyncio.sleep(0)
        await self.close()
