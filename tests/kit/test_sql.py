"""Statements on the driver connection (``kit.sql``'s bulk writes, ``kit.db.driver_connection``)
belong to the session's transaction even as its first statement (PostgreSQL: SQLAlchemy's
asyncpg adapter sends BEGIN lazily)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.backends import Backend
from tests.factories import Factory
from xobito.contact.repository import ContactRepository
from xobito.kit.db import driver_connection
from xobito.kit.time import utcnow
from xobito.models import Contact


@pytest.fixture(autouse=True)
def _postgres_only(backend: Backend) -> None:
    if backend.name != "postgres":
        pytest.skip("the COPY path is PostgreSQL's (run with XOBITO_TEST_BACKEND=postgres)")


async def count(app: FastAPI, ws: int) -> int:
    async with app.state.sessionmaker() as s:
        stmt = select(func.count()).select_from(Contact).where(Contact.workspace_id == ws)
        return int((await s.execute(stmt)).scalar_one())


@pytest.mark.parametrize("end", ["rollback", "commit"])
async def test_a_copy_as_the_first_statement_commits_or_rolls_back_with_the_session(
    app: FastAPI, factory: Factory, end: str
) -> None:
    t = await factory.tenant()
    now = utcnow()
    row = {"firstname": "Ann", "type": "lead", "created_at": now, "updated_at": now}
    async with app.state.sessionmaker() as s:
        repo = ContactRepository(s, t.workspace.id)
        await repo.insert_many([{**row, "phone": f"+1212555{i:04d}"} for i in range(3)])
        assert await count(app, t.workspace.id) == 0  # not visible before the commit
        await (s.rollback() if end == "rollback" else s.commit())
    assert await count(app, t.workspace.id) == (0 if end == "rollback" else 3)


@pytest.mark.parametrize("end", ["rollback", "commit"])
async def test_a_driver_statement_as_the_first_in_a_transaction_belongs_to_it(
    app: FastAPI, factory: Factory, end: str
) -> None:
    t = await factory.tenant()
    async with app.state.sessionmaker() as s, s.begin():
        async with driver_connection(s) as driver:
            assert driver is not None and driver.is_in_transaction()
            await driver.execute(
                "INSERT INTO contacts (workspace_id, firstname, type, phone, is_opted_out,"
                " is_enabled, created_at, updated_at)"
                " VALUES ($1, 'Ann', 'lead', '+12125550001', false, true, now(), now())",
                t.workspace.id,
            )
        assert await count(app, t.workspace.id) == 0  # not visible before the commit
        if end == "rollback":
            await s.rollback()
    assert await count(app, t.workspace.id) == (0 if end == "rollback" else 1)
