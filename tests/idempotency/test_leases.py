"""An ``Idempotency-Key`` reservation never outlives its request (issues 9.8 and 16.2).

A reservation names its owner (machine, process, request) and holds for a lease its process
renews. A retry finds it free at once when the owner's request ended in the same process or
its process exited on this machine, and otherwise once the lease lapsed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.backends import Backend
from tests.conftest import ADMIN_KEY
from tests.factories import Factory, Tenant
from tests.faults import refuse
from tests.servers import running_server
from xobito.idempotency.lease import Lessor, Owner, start_time
from xobito.kit.time import utcnow
from xobito.models import IdempotencyKey, Status

IN_PROGRESS = {"status": "error", "message": "A request with this idempotency key is in progress"}
HAS_PROC = os.path.exists("/proc/self/stat")
# A process that prints its PID and start time (as ``lease.start_time`` reads it), then exits.
EXITED = (
    "import os; stat = open('/proc/self/stat').read(); "
    "print(os.getpid(), stat.rsplit(')', 1)[1].split()[19])"
)


def keyed(t: Tenant, key: str) -> dict[str, str]:
    return {**t.headers, "Idempotency-Key": key}


async def reserve(
    session: AsyncSession, t: Tenant, key: str, owner: str, lease_until: datetime
) -> int:
    """A reservation some other request holds (as it would have written it)."""
    row = IdempotencyKey(
        token_id=t.token_id, key=key, request_hash="0" * 64, owner=owner, lease_until=lease_until
    )
    session.add(row)
    await session.commit()
    return row.id


def owner_on_this_machine(pid: int, started: str) -> str:
    mine = Owner.parse(Lessor().new_owner())
    assert mine is not None
    return str(Owner(mine.machine, pid, started, "0badc0de", "1"))


async def create(client: httpx.AsyncClient, t: Tenant, key: str, name: str) -> httpx.Response:
    return await client.post(t.url("/statuses"), json={"name": name}, headers=keyed(t, key))


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc to see other processes")
async def test_a_reservation_whose_process_exited_is_free_at_once(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    probe = await asyncio.create_subprocess_exec(
        sys.executable, "-c", EXITED, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await probe.communicate()
    pid, started = out.decode().split()
    assert start_time(int(pid)) != started  # it has exited (or its PID was reused)
    far = utcnow() + timedelta(hours=1)  # its lease would hold for an hour
    await reserve(session, t, "dead", owner_on_this_machine(int(pid), started), far)
    r = await create(client, t, "dead", "Taken over")
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers
    r = await create(client, t, "dead", "Taken over")
    assert r.headers["Idempotent-Replayed"] == "true"


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc to see other processes")
async def test_a_live_process_holds_its_reservation_for_its_lease(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    parent = os.getppid()
    started = start_time(parent)
    assert started is not None
    row_id = await reserve(
        session,
        t,
        "alive",
        owner_on_this_machine(parent, started),
        utcnow() + timedelta(seconds=20),
    )
    r = await create(client, t, "alive", "Busy")
    assert (r.status_code, r.json()) == (409, IN_PROGRESS)
    row = await session.get(IdempotencyKey, row_id)
    assert row is not None
    row.lease_until = utcnow() - timedelta(seconds=1)  # its process stopped renewing it
    await session.commit()
    r = await create(client, t, "alive", "Busy")
    assert r.status_code == 201, r.text


async def test_an_owner_on_another_machine_holds_until_its_lease_lapses(
    client: httpx.AsyncClient, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    elsewhere = str(Owner("another-machine.4026531836", os.getpid(), "123", "cafe", "7"))
    row_id = await reserve(session, t, "far", elsewhere, utcnow() + timedelta(seconds=20))
    r = await create(client, t, "far", "Far")
    assert (r.status_code, r.json()) == (409, IN_PROGRESS)
    row = await session.get(IdempotencyKey, row_id)
    assert row is not None
    row.lease_until = utcnow() - timedelta(seconds=1)
    await session.commit()
    r = await create(client, t, "far", "Far")
    assert r.status_code == 201, r.text


async def test_running_requests_renew_their_leases_and_ended_ones_do_not(
    app: FastAPI, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    service = app.state.idempotency
    lease = service.lease
    held = await service.begin(t.token_id, "long", "0" * 64)
    done = await service.begin(t.token_id, "short", "1" * 64)
    service.finish(done)
    try:
        # Not yet due: a request younger than a third of the lease needs no renewal.
        assert await service.renew_due(utcnow()) == 0
        later = utcnow() + lease - timedelta(seconds=service.renew_every)
        assert await service.renew_due(later) == 1
        await session.rollback()
        rows = {r.key: r for r in await session.scalars(select(IdempotencyKey))}
        assert rows["long"].lease_until is not None
        assert rows["long"].lease_until >= later + lease - timedelta(seconds=1)
        assert rows["short"].lease_until is not None
        # An ended request's lease is left to lapse.
        assert rows["short"].lease_until < rows["long"].lease_until - timedelta(seconds=5)
    finally:
        service.finish(held)


async def test_the_lease_is_a_setting(app: FastAPI) -> None:
    assert app.state.idempotency.lease == timedelta(
        seconds=app.state.settings.idempotency_lease_seconds
    )
    assert app.state.settings.idempotency_lease_seconds == 30


async def test_a_release_refused_in_another_process_is_retried_until_the_key_is_free(
    app: FastAPI,
    backend: Backend,
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
) -> None:
    """Issue 16.2 across processes: the owner lives on; it keeps giving the key back."""
    t = await factory.tenant()
    with running_server(backend, ADMIN_KEY) as server:
        async with refuse(app, "DELETE", "idempotency_keys"):
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as other:
                r = await other.post(t.url("/statuses"), json={"name": ""}, headers=keyed(t, "x"))
            assert r.status_code == 422, r.text  # the answer, not a 500
            # Its process runs and its lease holds: still in progress, seen from here.
            r = await create(client, t, "x", "Retried")
            assert (r.status_code, r.json()) == (409, IN_PROGRESS)
        # The database accepts again: the owner's retries give the key back.
        deadline = time.monotonic() + 30
        while True:
            r = await create(client, t, "x", "Retried")
            if r.status_code != 409 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)  # between polls of a background retry only
        assert r.status_code == 201, (r.text, server.output())
    await session.rollback()
    stmt = select(func.count()).select_from(Status).where(Status.name == "Retried")
    assert await session.scalar(stmt) == 1
