"""Logs and stored errors never carry personal data: a failed statement is logged without its
parameters, and without the values PostgreSQL quotes back in its DETAIL."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from tests.factories import Factory, Tenant
from xobito.jobs.handlers import process_inbox
from xobito.jobs.repository import JobRepository
from xobito.jobs.worker import Worker
from xobito.kit.logging import error_text, render_exception
from xobito.models import Contact, Job

PERSON = {
    "firstname": "Zebulon",
    "lastname": "Quartermaine",
    "email": "zebulon.quartermaine@example.com",
    "phone": "+14155550177",
}
JOB = "test.duplicate_contact"


def personal(text: str) -> list[str]:
    """The person's fields that appear in ``text`` (the phone also without its +)."""
    values = [*PERSON.values(), PERSON["phone"].lstrip("+")]
    return [v for v in values if v in text]


async def insert_duplicate(session: AsyncSession, workspace_id: int) -> None:
    """The same person again: the (workspace, phone) unique constraint refuses it."""
    await session.execute(insert(Contact).values(workspace_id=workspace_id, type="lead", **PERSON))


@pytest.fixture
async def workspace_id(factory: Factory) -> int:
    tenant = await factory.tenant()
    await factory.contact(tenant, **PERSON)
    return tenant.workspace.id


async def failed_statement(app: FastAPI, workspace_id: int) -> IntegrityError:
    async with app.state.sessionmaker() as s:
        with pytest.raises(IntegrityError) as caught:
            await insert_duplicate(s, workspace_id)
    return caught.value


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """The lines the configured renderer prints (console or JSON), instead of printing them."""
    processors = structlog.get_config()["processors"]  # cached loggers share this list
    saved = list(processors)

    def keep(_logger: Any, _name: str, rendered: Any) -> Any:
        lines.append(str(rendered))
        raise structlog.DropEvent

    lines: list[str] = []
    processors.append(keep)
    yield lines
    processors[:] = saved


REFUSE = {
    "sqlite": [
        # Compiled when an INSERT runs: every contact INSERT fails (OperationalError).
        "CREATE TRIGGER xobito_test_refuse BEFORE INSERT ON contacts "
        "BEGIN SELECT xobito_test_no_such_function(NEW.phone); END"
    ],
    "postgresql": [
        "CREATE FUNCTION xobito_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
        "CREATE TRIGGER xobito_test_refuse BEFORE INSERT ON contacts "
        "FOR EACH ROW EXECUTE FUNCTION xobito_test_refuse()",
    ],
}
ALLOW = {
    "sqlite": ["DROP TRIGGER IF EXISTS xobito_test_refuse"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS xobito_test_refuse ON contacts",
        "DROP FUNCTION IF EXISTS xobito_test_refuse()",
    ],
}


async def run_ddl(app: FastAPI, statements: list[str]) -> None:
    async with app.state.engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement))


@pytest.fixture
async def refusing_contacts(app: FastAPI) -> AsyncIterator[None]:
    """Every INSERT into contacts fails in the database, as an unforeseen error would."""
    dialect = app.state.engine.dialect.name
    await run_ddl(app, REFUSE[dialect])
    try:
        yield
    finally:
        await run_ddl(app, ALLOW[dialect])


async def test_a_request_failing_on_a_statement_logs_no_personal_data(
    app: FastAPI,
    client: httpx.AsyncClient,
    factory: Factory,
    refusing_contacts: None,
    log_lines: list[str],
) -> None:
    tenant: Tenant = await factory.tenant()
    status, source = await factory.status(tenant), await factory.source(tenant)
    body = {**PERSON, "type": "lead", "status_id": status.id, "source_id": source.id}
    resp = await client.post(tenant.url("/contacts"), json=body, headers=tenant.headers)
    assert resp.status_code == 500
    assert resp.json() == {"status": "error", "message": "Failed to create contact"}
    (line,) = [line for line in log_lines if "unexpected_failure" in line]
    assert "INSERT INTO contacts" in line  # the traceback and statement are kept to debug
    assert personal(line) == []


async def test_a_failed_statement_is_described_without_its_parameters(
    app: FastAPI, workspace_id: int
) -> None:
    exc = await failed_statement(app, workspace_id)
    assert personal(str(exc)) == []  # hide_parameters on the engine
    assert "INSERT INTO contacts" in str(exc)  # the statement is still there to debug
    assert personal(error_text(exc)) == []
    try:
        raise RuntimeError("while storing a contact") from exc
    except RuntimeError:
        rendered = render_exception(sys.exc_info())
    assert "INSERT INTO contacts" in rendered and "while storing a contact" in rendered
    assert personal(rendered) == []  # nor PostgreSQL's "DETAIL: Key (...)=(...)"


async def test_a_job_failing_on_a_statement_logs_and_keeps_no_personal_data(
    app: FastAPI, workspace_id: int
) -> None:
    async def duplicate_contact(session: AsyncSession, payload: dict[str, Any]) -> None:
        await insert_duplicate(session, int(payload["workspace_id"]))

    async with app.state.sessionmaker() as s:
        JobRepository(s).enqueue(JOB, {"workspace_id": workspace_id}, max_attempts=1)
        await s.commit()
    worker = Worker(app.state.sessionmaker, {JOB: duplicate_contact}, process_inbox)
    with capture_logs() as logs:
        await worker.drain()
    (failed,) = [e for e in logs if e["event"] == "job_failed"]
    line = orjson.dumps(failed).decode()  # the JSON line production prints
    assert "IntegrityError" in line
    assert personal(line) == []
    async with app.state.sessionmaker() as s:
        (job,) = (await s.execute(select(Job).where(Job.kind == JOB))).scalars()
    assert job.last_error is not None and "IntegrityError" in job.last_error
    assert personal(job.last_error) == []
