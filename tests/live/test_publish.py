"""``publish()``: written with the commit, never with a rollback; streams woken after it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import Factory
from xobito.live.bus import BUS
from xobito.live.publish import publish
from xobito.models import LiveEvent


async def test_written_on_commit_and_woken_after(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.tenant()
    ws = tenant.workspace.id
    woken: list[int] = []
    stop = BUS.listen(ws, lambda: woken.append(len(woken)))
    try:
        async with app.state.sessionmaker() as session:
            publish(session, ws, "conversation", chat_id=7, data={"change": "new"})
            publish(session, ws, "assignment", chat_id=7)
            assert woken == []
            await session.commit()
        assert woken == [0]  # once per commit, after it
        async with app.state.sessionmaker() as session:
            rows = (await session.scalars(select(LiveEvent).order_by(LiveEvent.id))).all()
        assert [(r.workspace_id, r.kind, r.chat_id, r.data) for r in rows] == [
            (ws, "conversation", 7, {"change": "new"}),
            (ws, "assignment", 7, None),
        ]
        assert rows[1].id == rows[0].id + 1
    finally:
        stop()


async def test_rolled_back_or_closed_writes_nothing(app: FastAPI, factory: Factory) -> None:
    tenant = await factory.tenant()
    ws = tenant.workspace.id
    woken: list[int] = []
    stop = BUS.listen(ws, lambda: woken.append(1))
    try:
        async with app.state.sessionmaker() as session:
            publish(session, ws, "note", chat_id=1)
            await session.rollback()
            await session.commit()  # the dropped event does not come back
        async with app.state.sessionmaker() as session:
            publish(session, ws, "note", chat_id=1)  # closed without commit
        async with app.state.sessionmaker() as session:
            await session.commit()
            assert (await session.scalars(select(LiveEvent))).all() == []
        assert woken == []
    finally:
        stop()


async def test_unknown_kind_is_refused(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        with pytest.raises(ValueError, match="unknown live event kind"):
            publish(session, 1, "message.sent")


async def test_maintenance_purges_events_older_than_two_days(
    app: FastAPI, factory: Factory
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from xobito.jobs.maintenance import purge
    from xobito.kit.time import utcnow

    ws = (await factory.tenant()).workspace.id
    async with app.state.sessionmaker() as session:
        publish(session, ws, "note")
        publish(session, ws, "note")
        await session.commit()
        first = (await session.scalars(select(LiveEvent.id).order_by(LiveEvent.id))).first()
        old = utcnow() - timedelta(days=2, minutes=1)
        await session.execute(update(LiveEvent).where(LiveEvent.id == first).values(created_at=old))
        assert (await purge(session, app.state.settings, utcnow()))["live_events"] == 1
        await session.commit()
        assert len((await session.scalars(select(LiveEvent))).all()) == 1
