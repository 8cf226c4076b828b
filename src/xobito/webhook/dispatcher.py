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
from asyncio import FIRST_COMPLETED
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp
import structlog
from sqlalchemy import insert, select, update
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
CLAIM_INTERVAL = 0.05  # seconds between claims while deliveries wait in the local backlog


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


def describe(exc: BaseException) -> str:
    """The log line of a failed attempt; keeps the cause aiohttp wraps (e.g. the SSRF guard's
    refusal inside a DNS error, which aiohttp's own message leaves out)."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({cause})"
    return text[:500]


class Dispatcher:
    """Claims due deliveries in batches and sends them, at most
    ``webhook_max_in_flight_per_endpoint`` at a time per endpoint.

    A claim may take more deliveries of an endpoint than it has free slots: the rest wait in a
    local backlog (still leased to this worker) and start as slots free up, so a busy endpoint
    is claimed in large batches rather than one delivery per query. A backlog entry whose
    lease would run out before its attempt could finish is given back instead of sent.
    """

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
        self.cap = settings.webhook_max_in_flight_per_endpoint
        self.in_flight: Counter[int] = Counter()
        self._backlog: dict[int, deque[tuple[Claimed, datetime]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[Attempt] = []
        self._session: aiohttp.ClientSession | None = None
        self._wake = asyncio.Event()  # set whenever a send finishes
        self._last_claim = 0.0
        self._chain = False  # start waiting deliveries as soon as a slot frees (``run``)

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
        self.release_backlog()
        await self.flush()
        if self._session is not None:
            await self._session.close()

    def backlog_size(self) -> int:
        return sum(len(q) for q in self._backlog.values())

    def saturated(self) -> list[int]:
        """Endpoints not to claim for now: all slots busy, or enough waiting locally."""
        busy = {e for e, n in self.in_flight.items() if n >= self.cap}
        return sorted(busy | {e for e, q in self._backlog.items() if len(q) >= self.cap})

    def release_backlog(self) -> None:
        """Give every waiting lease back (recorded by the next ``flush``)."""
        now = self.clock()
        for queue in self._backlog.values():
            for c, _ in queue:
                self._results.append(Attempt(c, None, None, None, 0, None, now))
        self._backlog.clear()

    def _start_waiting(self) -> int:
        """Start backlog entries for endpoints with free slots; returns how many."""
        before = len(self._tasks)
        for endpoint_id in list(self._backlog):
            self._start_next(endpoint_id)
        return len(self._tasks) - before

    def _start_next(self, endpoint_id: int) -> None:
        queue = self._backlog.get(endpoint_id)
        margin = timedelta(seconds=self.settings.webhook_timeout_seconds + 2)
        while queue and self.in_flight[endpoint_id] < self.cap:
            c, lease = queue.popleft()
            if lease - self.clock() < margin:
                self._results.append(Attempt(c, None, None, None, 0, None, self.clock()))
                continue
            self._start(c)
        if queue is not None and not queue:
            del self._backlog[endpoint_id]

    def _start(self, c: Claimed) -> None:
        self.in_flight[c.endpoint_id] += 1
        task = asyncio.create_task(self._send(c))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def pump(self) -> int:
        """Start waiting deliveries, claim what is due (within free capacity) and start
        sending; returns how many were claimed or started."""
        started = self._start_waiting()
        waiting = self.backlog_size()
        free = self.settings.webhook_max_in_flight - len(self._tasks) - waiting
        if free <= 0 or (waiting and time.monotonic() - self._last_claim < CLAIM_INTERVAL):
            # Work is queued locally: look for more (other endpoints') only now and then,
            # not on every finished send (a claim is a few round trips).
            return started
        self._last_claim = time.monotonic()
        now = self.clock()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds + 5)
        async with self.sessionmaker() as session:
            claimed = await DeliveryRepository(session).claim(free, now, lease, self.saturated())
            await session.commit()
        for c in claimed:
            if self.in_flight[c.endpoint_id] < self.cap and c.endpoint_id not in self._backlog:
                self._start(c)
            else:
                self._backlog.setdefault(c.endpoint_id, deque()).append((c, lease))
        return started + len(claimed)

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
            error = describe(exc)
        finally:
            self.in_flight[c.endpoint_id] -= 1
            if self.in_flight[c.endpoint_id] <= 0:
                del self.in_flight[c.endpoint_id]
            if self._chain:  # the worker loop: the freed slot takes the next waiting one now
                self._start_next(c.endpoint_id)
            self._wake.set()
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
        """Record finished attempts in one transaction, with a few statements per batch
        (not per attempt): deliveries, logs, endpoints."""
        results, self._results = self._results, []
        if not results:
            return 0
        async with self.sessionmaker() as session:
            await self._record(session, results)
            await session.commit()
        return len(results)

    async def _record(self, session: AsyncSession, results: list[Attempt]) -> None:
        released = [a.claimed.delivery_id for a in results if a.status is None and a.error is None]
        if released:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(released))
                .values(leased_until=None)
            )
        sent = sorted(
            (a for a in results if a.status is not None or a.error is not None),
            key=lambda a: a.at,
        )
        if not sent:
            return
        await session.execute(
            insert(WebhookLog),
            [
                {
                    "delivery_id": a.claimed.delivery_id,
                    "endpoint_id": a.claimed.endpoint_id,
                    "event_id": a.claimed.event_id,
                    "event": a.claimed.event,
                    "attempt": a.claimed.attempts + 1,
                    "status_code": a.status,
                    "response_excerpt": a.excerpt,
                    "duration_ms": a.duration_ms,
                    "error": a.error,
                    "created_at": a.at,
                }
                for a in sent
            ],
        )
        # Successes (the bulk) in one statement per status code; the rest row by row.
        delivered: dict[int, list[Attempt]] = {}
        others: list[dict[str, object]] = []
        for a in sent:
            if a.status is not None and 200 <= a.status < 300:
                WEBHOOK_DELIVERIES.labels("delivered").inc()
                delivered.setdefault(a.status, []).append(a)
            else:
                others.append(self._delivery_values(a))
        for status, group in delivered.items():
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_([a.claimed.delivery_id for a in group]))
                .values(
                    state="delivered",
                    attempts=WebhookDelivery.attempts + 1,
                    last_status_code=status,
                    delivered_at=max(a.at for a in group),
                    leased_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        if others:
            await session.execute(update(WebhookDelivery), others)
        await self._endpoints(session, sent)

    def _delivery_values(self, a: Attempt) -> dict[str, object]:
        attempt = a.claimed.attempts + 1
        values: dict[str, object] = {
            "id": a.claimed.delivery_id,
            "attempts": attempt,
            "last_status_code": a.status,
            "leased_until": None,
        }
        if a.status == 410:
            WEBHOOK_DELIVERIES.labels("gone").inc()
            values["state"] = "failed"
        else:
            WEBHOOK_DELIVERIES.labels("failed").inc()
            delay = self.delay_after(attempt, a.retry_after)
            if delay is None:
                values["state"] = "failed"
            else:
                values["next_attempt_at"] = a.at + timedelta(seconds=delay)
        return values

    async def _endpoints(self, session: AsyncSession, sent: list[Attempt]) -> None:
        """Failure streaks, 410 Gone and the 5-day auto-disable, in the order of the attempts."""
        ids = sorted({a.claimed.endpoint_id for a in sent})
        found = await session.execute(select(WebhookEndpoint).where(WebhookEndpoint.id.in_(ids)))
        endpoints = {e.id: e for e in found.scalars()}
        for a in sent:
            endpoint = endpoints.get(a.claimed.endpoint_id)
            if endpoint is None:
                continue
            if a.status is not None and 200 <= a.status < 300:
                if endpoint.failing_since is not None:
                    endpoint.failing_since = None
            elif a.status == 410:
                if endpoint.enabled:
                    endpoint.enabled = False
                    endpoint.disabled_reason = "The endpoint answered 410 Gone."
                    log.warning("webhook_endpoint_gone", endpoint_id=endpoint.id)
            elif endpoint.failing_since is None:
                endpoint.failing_since = a.at
            elif endpoint.enabled and a.at - endpoint.failing_since >= AUTO_DISABLE_AFTER:
                endpoint.enabled = False
                since = endpoint.failing_since.strftime("%Y-%m-%d %H:%M")
                endpoint.disabled_reason = (
                    f"Deliveries failed for 5 days in a row (since {since} UTC)."
                )
                log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.id)

    async def run_once(self) -> int:
        """Claim, wait for this round's sends, record them; leases claimed beyond the
        endpoints' free slots are given back. Used by tests and the CLI."""
        started = await self.pump()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.release_backlog()
        await self.flush()
        return started

    async def run(self, stop: asyncio.Event, poll: float = 0.05) -> None:
        """The worker loop: record results and refill slots whenever a send finishes, and
        look for newly due deliveries every ``poll`` seconds."""
        stopping = asyncio.ensure_future(stop.wait())
        self._chain = True
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self.flush()
                    await self.pump()
                except Exception:
                    log.exception("webhook_dispatch_failed")
                woken = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({woken, stopping}, timeout=poll, return_when=FIRST_COMPLETED)
                woken.cancel()
        finally:
            self._chain = False
            stopping.cancel()
            await self.close()
