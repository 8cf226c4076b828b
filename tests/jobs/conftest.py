"""A large signed-webhook backlog and real ``xobito worker`` processes (PostgreSQL only).

The backlog is written straight into the inbox (as the webhook endpoint would), for two
connected workspaces: inbound messages from a few recurring senders, and for each outbound
message its ``sent``, ``delivered``, a redelivered ``delivered`` and ``read`` statuses.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from tests.backends import Backend
from tests.factories import Factory
from tests.inbound.conftest import Line, Meta, at
from tests.servers import server_env
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.models import Contact, InboxEvent, Message
from xobito.testing.meta_webhooks import (
    StatusName,
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)

XOBITO = Path(sys.executable).parent / "xobito"
T_SENT, T_DELIVERED, T_REDELIVERED, T_READ = (
    1_750_000_000,
    1_750_000_100,
    1_750_000_600,
    1_750_000_200,
)
STOP_TIMEOUT = 20.0


@pytest.fixture
def meta(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, admin_headers: dict[str, str]
) -> Meta:
    return Meta(app, client, factory, admin_headers)


@pytest.fixture
def postgres(backend: Backend) -> Backend:
    if backend.name != "postgres":
        pytest.skip("needs PostgreSQL: several worker processes share one database")
    return backend


@dataclass
class Backlog:
    lines: list[Line]
    inbound: dict[str, int] = field(default_factory=dict)  # wamid -> workspace id
    senders: dict[int, set[str]] = field(default_factory=dict)  # workspace id -> phones
    outbound: list[str] = field(default_factory=list)  # wamids
    rows: int = 0


async def make_backlog(meta: Meta, *, messages: int = 600, outbound: int = 300) -> Backlog:
    """``messages`` inbound rows + 4 status rows per outbound message, in the inbox."""
    backlog = Backlog([await meta.line(), await meta.line()])
    async with meta.app.state.sessionmaker() as s:
        contacts = [
            Contact(
                workspace_id=backlog.lines[j % 2].workspace_id,
                firstname=f"+1415556{j:04d}",
                phone=f"+1415556{j:04d}",
                type="lead",
            )
            for j in range(outbound)
        ]
        s.add_all(contacts)
        await s.flush()
        for j, contact in enumerate(contacts):
            backlog.outbound.append(f"wamid.OUT-{j}")
            s.add(
                Message(
                    workspace_id=contact.workspace_id,
                    contact_id=contact.id,
                    wamid=f"wamid.OUT-{j}",
                    direction="outbound",
                    type="text",
                    phone=contact.phone,
                    phone_number_id=backlog.lines[j % 2].phone_number_id,
                    text="Hello",
                    status="pending",
                )
            )
        await s.commit()

    def status(j: int, name: StatusName, ts: int) -> bytes:
        line = backlog.lines[j % 2]
        update = StatusUpdate(f"wamid.OUT-{j}", name, f"1415556{j:04d}", timestamp=ts)
        return orjson.dumps(
            build_status_webhook(
                [update], phone_number_id=line.phone_number_id, waba_id=line.waba_id
            )
        )

    def inbound(i: int) -> bytes:
        line = backlog.lines[i % 2]
        sender = f"1650555{i % 37:04d}"  # few senders: their contacts are found, not re-made
        wamid = f"wamid.IN-{i}"
        backlog.inbound[wamid] = line.workspace_id
        backlog.senders.setdefault(line.workspace_id, set()).add("+" + sender)
        return orjson.dumps(
            build_text_message_webhook(
                sender,
                f"message {i}",
                wamid=wamid,
                profile_name=f"Sender {i % 37}",
                timestamp=T_SENT + i,
                phone_number_id=line.phone_number_id,
                waba_id=line.waba_id,
            )
        )

    bodies: list[bytes] = []
    phases: list[tuple[StatusName, int]] = [
        ("sent", T_SENT),
        ("delivered", T_DELIVERED),
        ("delivered", T_REDELIVERED),  # Meta redelivers, restamped
        ("read", T_READ),
    ]
    chunk = messages // len(phases)
    for p, (name, ts) in enumerate(phases):
        bodies += [status(j, name, ts) for j in range(outbound)]
        last = messages if p == len(phases) - 1 else (p + 1) * chunk
        bodies += [inbound(i) for i in range(p * chunk, last)]
    async with meta.app.state.sessionmaker() as s:
        inbox = InboxRepository(s)
        for body in bodies:
            await inbox.add(body, EVERYONE)  # as signed with the app-level secret
        await s.commit()
    backlog.rows = len(bodies)
    return backlog


async def pending_rows(app: FastAPI) -> int:
    async with app.state.sessionmaker() as s:
        stmt = select(func.count()).select_from(InboxEvent).where(InboxEvent.processed_at.is_(None))
        return int((await s.execute(stmt)).scalar_one())


async def writing_transactions(app: FastAPI) -> int:
    """Other sessions with an open transaction that has written something (a batch underway)."""
    async with app.state.sessionmaker() as s:
        sql = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return int((await s.execute(sql)).scalar_one())


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Poll ``condition`` until true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)

    def stop(self) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode


@pytest.fixture
def workers(postgres: Backend) -> Iterator[Callable[[], WorkerProcess]]:
    """Starts ``xobito worker`` processes on the test database; all stopped afterwards."""
    started: list[WorkerProcess] = []
    with tempfile.TemporaryDirectory(prefix="xobito-worker-") as workdir:

        def start() -> WorkerProcess:
            log = Path(workdir) / f"worker-{len(started)}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(XOBITO), "worker"],
                    env=server_env(postgres, "unused-admin-key"),
                    cwd=workdir,  # no .env file here
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            worker = WorkerProcess(process, log)
            started.append(worker)
            return worker

        yield start
        for worker in started:
            worker.stop()


async def check_exactly_once(app: FastAPI, backlog: Backlog, *, in_order: bool) -> None:
    """Every row processed once, without error; messages unique; statuses applied."""
    async with app.state.sessionmaker() as s:
        rows = (
            await s.execute(select(InboxEvent.attempts, InboxEvent.error, InboxEvent.processed_at))
        ).all()
        assert len(rows) == backlog.rows
        assert [r for r in rows if r.processed_at is None] == []
        assert [r.error for r in rows if r.error is not None] == []
        # attempts is only counted when a row's batch commits: 1 means its effects once.
        assert {r.attempts for r in rows} == {1}

        inbound = (
            await s.execute(
                select(Message.wamid, Message.workspace_id).where(Message.direction == "inbound")
            )
        ).all()
        assert len(inbound) == len(backlog.inbound)
        assert dict(inbound) == backlog.inbound
        for workspace_id, senders in backlog.senders.items():
            stmt = select(Contact.phone).where(
                Contact.workspace_id == workspace_id, Contact.type == "guest"
            )
            phones = (await s.execute(stmt)).scalars().all()
            assert sorted(phones) == sorted(senders)  # one contact per sender, none twice

        outbound = (
            (await s.execute(select(Message).where(Message.direction == "outbound")))
            .scalars()
            .all()
        )
        assert len(outbound) == len(backlog.outbound)
        for message in outbound:
            assert message.status == "read", message.wamid
            assert message.read_at == at(T_READ)
            if in_order:  # one worker takes the rows in order: the first of each applies
                assert message.sent_at == at(T_SENT)
                assert message.delivered_at == at(T_DELIVERED)
