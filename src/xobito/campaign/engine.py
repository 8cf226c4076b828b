"""The campaign engine: runs in every worker process, beside the job loop.

Each tick (``poll_seconds``) it starts due campaigns (``starting``), returns the recipients of
workers that stopped (``EngineRepository.sweep``), completes campaigns with nobody left, and
keeps one sender task per running campaign. A sender claims due recipients (``claimed``:
held by this worker, not yet sent), waits for each one's slot of the sending number's bucket
(``pacing``), marks it ``sending`` (committed before the Graph call: what is ``sending``
when a worker dies is the ambiguous case, see ``outcomes``), calls Meta once, and stores
the outcome (``store``). Marks and outcomes are written in groups (``kit.group_commit``),
so a thousand sends a second take a few dozen transactions.

A recipient is therefore sent at most once: it is sent only from ``sending``, which only
its claiming worker enters, and only once (a pause or cancel takes back ``claimed`` rows
first; nothing ever moves a row back from ``sending``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.campaign import events, variables
from xobito.campaign.engine_repository import Claimed, EngineRepository
from xobito.campaign.outcomes import Verdict, judge
from xobito.campaign.pacing import (
    Bucket,
    MemoryPacer,
    Pacer,
    campaign_key,
    number_key,
    wait_for_slot,
)
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import campaign_record
from xobito.campaign.service import DEFAULT_RATE
from xobito.campaign.starting import start
from xobito.campaign.store import Outcome, write_outcomes
from xobito.config import Settings
from xobito.connection.service import ConnectionService, Link
from xobito.kit.group_commit import GroupCommit
from xobito.kit.time import utcnow
from xobito.models import Campaign, Template
from xobito.template.repository import TemplateRepository
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError

log = structlog.get_logger("xobito.campaign")
HEARTBEAT_SECONDS = 2.0


@dataclass
class Run:
    """What this process knows of one running campaign."""

    id: int
    workspace_id: int
    phone_number_id: str
    rate: int
    number_rate: int
    template: Template
    header: dict[str, str] | None
    link: Link
    provider: WhatsAppProvider
    state: str = "running"
    held: set[int] = field(default_factory=set)  # claimed or in flight here


class CampaignEngine:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        providers: dict[str, WhatsAppProvider],
        settings: Settings,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll_seconds: float = 0.5,
    ) -> None:
        """``clock``: when scheduled campaigns are due (a fake one in tests); the workers'
        heartbeats always use the real time."""
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.settings = settings
        self.pacer = pacer or MemoryPacer()
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.timeout = timedelta(seconds=settings.campaign_worker_timeout_seconds)
        self.semaphore = asyncio.Semaphore(settings.campaign_max_in_flight)
        self.sandbox_delay = settings.sandbox_status_delay_seconds
        self.worker_id: int | None = None
        self.runs: dict[int, Run] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.sends: set[asyncio.Task[None]] = set()
        self.stopping = False
        self.sent = 0  # accepted by Meta, from this engine
        self._beat = 0.0
        self._wake = asyncio.Event()
        self.marks: GroupCommit[int, bool] = GroupCommit(self._mark, name="campaign-marks")
        self.releases: GroupCommit[int, None] = GroupCommit(self._release, name="campaign-free")
        self.outcomes: GroupCommit[Outcome, None] = GroupCommit(
            lambda items: write_outcomes(self.sessionmaker, items), name="campaign-outcomes"
        )

    # ---- lifecycle -------------------------------------------------------------------------

    async def register(self) -> int:
        if self.worker_id is None:
            async with self.sessionmaker() as session:
                name = f"{socket.gethostname()}:{os.getpid()}"
                self.worker_id = await EngineRepository(session).register(name, utcnow())
                await session.commit()
        return self.worker_id

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop``; a failing tick (the database away) is logged and retried."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("campaign_tick_failed")
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self._wake), self.poll_seconds)
        finally:
            await self.close()

    async def close(self) -> None:
        """Finish the sends under way, give back what was only claimed, leave (the
        providers are the caller's to close)."""
        self.stopping = True
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        if self.sends:
            await asyncio.wait(list(self.sends), timeout=60)
        if self.worker_id is not None:
            with contextlib.suppress(Exception):
                async with self.sessionmaker() as session:
                    repo = EngineRepository(session)
                    for run in self.runs.values():
                        await repo.release(sorted(run.held), self.worker_id, utcnow())
                    await repo.leave(self.worker_id)
                    await session.commit()

    async def drain(self, seconds: float = 60.0) -> None:
        """Tick until no campaign is running or scheduled to now (tests, CLI)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        await self.register()
        while loop.time() < deadline:
            await self.tick()
            if not self.tasks and not self.sends and not await self._due():
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("campaigns still running")

    async def _due(self) -> bool:
        async with self.sessionmaker() as session:
            repo = EngineRepository(session)
            return bool(await repo.due_to_start(self.clock(), 1) or await repo.active_running())

    # ---- tick ------------------------------------------------------------------------------

    async def tick(self) -> None:
        worker_id = await self.register()
        real_now = utcnow()
        loop = asyncio.get_running_loop()
        if loop.time() - self._beat >= HEARTBEAT_SECONDS:
            async with self.sessionmaker() as session:
                await EngineRepository(session).heartbeat(worker_id, real_now)
                await session.commit()
            self._beat = loop.time()
        async with self.sessionmaker() as session:
            for campaign in await EngineRepository(session).due_to_start(self.clock()):
                started = await start(session, campaign, real_now)
                log.info("campaign_started" if started else "campaign_failed", id=campaign.id)
            await session.commit()
        async with self.sessionmaker() as session:
            repo = EngineRepository(session)
            active = list(await repo.active())
            live = await repo.live_workers(real_now - self.timeout)
            live.add(worker_id)
            for campaign in active:
                await repo.sweep(campaign.id, live, real_now)
            await session.commit()
        states = {c.id: (c.state, c.rate_per_second) for c in active}
        for campaign_id, run in list(self.runs.items()):
            state, rate = states.get(campaign_id, ("gone", run.rate))
            run.state, run.rate = state, rate
        for campaign in active:
            if campaign.state == "running" and campaign.id not in self.tasks:
                prepared = await self._prepare(campaign.id)
                if prepared is not None:
                    self._spawn(prepared)
        for campaign in active:
            if campaign.state == "running":
                await self._complete_if_done(campaign.id)

    def _spawn(self, run: Run) -> None:
        self.runs[run.id] = run
        task = asyncio.create_task(self._sender(run), name=f"campaign-{run.id}")
        self.tasks[run.id] = task

        def done(_: asyncio.Task[None]) -> None:
            if self.tasks.get(run.id) is task:
                del self.tasks[run.id]

        task.add_done_callback(done)

    async def _prepare(self, campaign_id: int) -> Run | None:
        async with self.sessionmaker() as session:
            campaign = await session.get(Campaign, campaign_id)
            if campaign is None or campaign.state != "running":
                return None
            template = await TemplateRepository(session, campaign.workspace_id).by_name(
                campaign.template_name, campaign.template_language
            )
            link = await ConnectionService(session).link(
                campaign.workspace_id, campaign.phone_number_id
            )
            number = await CampaignRepository(session, campaign.workspace_id).number(
                campaign.phone_number_id
            )
            if template is None or link is None or link.provider not in self.providers:
                campaign.state = "paused"
                campaign.reason = (
                    "The template is gone." if template is None else "WhatsApp is not connected."
                )
                await session.commit()
                return None
            return Run(
                campaign.id,
                campaign.workspace_id,
                campaign.phone_number_id,
                campaign.rate_per_second,
                number.rate_per_second if number else DEFAULT_RATE,
                template,
                campaign.header,
                link,
                self.providers[link.provider],
            )

    async def _complete_if_done(self, campaign_id: int) -> None:
        run = self.runs.get(campaign_id)
        if run is not None and run.held:
            return
        async with self.sessionmaker() as session:
            repo = EngineRepository(session)
            campaign = await repo.lock_running(campaign_id)
            if campaign is None or await repo.waiting(campaign_id):
                return
            campaign.state = "completed"
            campaign.completed_at = utcnow()
            await session.flush()
            counts = await CampaignRepository(session, campaign.workspace_id).counts([campaign])
            record = campaign_record(campaign, counts[campaign.id])
            await events.emit_state(session, campaign, "campaign.completed", record)
            await session.commit()
            log.info("campaign_completed", id=campaign_id, counts=record["counts"])

    # ---- sending ---------------------------------------------------------------------------

    async def _sender(self, run: Run) -> None:
        assert self.worker_id is not None
        while run.state == "running" and not self.stopping:
            target = min(self.settings.campaign_max_in_flight, max(10, run.rate * 2))
            room = target - len(run.held)
            claimed: list[Claimed] = []
            if room >= max(1, target // 4):
                async with self.sessionmaker() as session:
                    repo = EngineRepository(session)
                    claimed = await repo.claim(run.id, self.worker_id, room, self.clock())
                    stopped = await repo.opted_out(
                        [c.contact_id for c in claimed if c.contact_id is not None]
                    )
                    if stopped:
                        gone = [c.id for c in claimed if c.contact_id in stopped]
                        await repo.exclude(gone, "opted_out", utcnow())
                        claimed = [c for c in claimed if c.contact_id not in stopped]
                    await session.commit()
            for recipient in claimed:
                run.held.add(recipient.id)
                task = asyncio.create_task(self._send(run, recipient))
                self.sends.add(task)
                task.add_done_callback(self.sends.discard)
            if not claimed:
                await asyncio.sleep(0.05 if run.held else 0.2)

    async def _send(self, run: Run, r: Claimed) -> None:
        try:
            async with self.semaphore:
                buckets = [
                    Bucket(number_key(run.phone_number_id), run.number_rate),
                    Bucket(campaign_key(run.id), run.rate),
                ]
                await wait_for_slot(self.pacer, buckets)
                if run.state != "running" or self.stopping:
                    await self.releases.submit(r.id)
                    return
                if not await self.marks.submit(r.id):
                    return  # taken back meanwhile (pause, cancel)
                outcome = await self._call(run, r)
                await self._store(outcome)
                if outcome.verdict.kind == "sent":
                    self.sent += 1
        except Exception:
            log.exception("campaign_send_failed", campaign=run.id, recipient=r.id)
            with contextlib.suppress(Exception):  # not marked yet: back in the queue
                await self.releases.submit(r.id)
        finally:
            run.held.discard(r.id)

    async def _store(self, outcome: Outcome) -> None:
        """Meta has answered: keep trying to store it (the database busy or away for a
        while); a worker that stops first leaves the recipient ``sending`` (never resent)."""
        for attempt in range(8):
            try:
                await self.outcomes.submit(outcome)
                return
            except Exception:
                log.warning("campaign_outcome_retry", recipient=outcome.recipient_id,
                            attempt=attempt + 1)
                await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        await self.outcomes.submit(outcome)

    async def _call(self, run: Run, r: Claimed) -> Outcome:
        values = r.values or {}
        outcome = Outcome(
            r.id,
            run.id,
            run.workspace_id,
            r.contact_id,
            r.chat_id,
            r.phone,
            run.phone_number_id,
            Verdict("sent"),
            r.attempts,
            r.pair_attempts,
            text=variables.rendered(run.template, values),
        )
        try:
            outcome.payload = variables.build(run.template, run.header, values, r.phone)
            result = await run.provider.send_message(run.link.info, outcome.payload)
        except WhatsAppError as error:
            outcome.verdict = judge(
                error, r.attempts, r.pair_attempts, self.settings.campaign_max_attempts
            )
            outcome.graph_status = error.http_status
            outcome.response = error.raw or None
            if outcome.verdict.kind == "throttled":
                await self.pacer.slow_down(number_key(run.phone_number_id))
            return outcome
        outcome.wamid = result.wamid
        outcome.response = result.raw
        outcome.graph_status = 200
        if getattr(run.provider, "simulates_statuses", False):
            outcome.sandbox_delay = self.sandbox_delay
        return outcome

    async def _mark(self, ids: list[int]) -> list[bool]:
        assert self.worker_id is not None
        async with self.sessionmaker() as session:
            marked = await EngineRepository(session).mark_sending(ids, self.worker_id, utcnow())
            await session.commit()
        return [i in marked for i in ids]

    async def _release(self, ids: list[int]) -> list[None]:
        assert self.worker_id is not None
        async with self.sessionmaker() as session:
            await EngineRepository(session).release(ids, self.worker_id, utcnow())
            await session.commit()
        return [None] * len(ids)


async def _first(*flags: asyncio.Event) -> None:
    waits = [asyncio.create_task(f.wait()) for f in flags]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
