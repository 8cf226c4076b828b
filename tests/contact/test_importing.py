"""CSV import: each row judged as its own POST /contacts would be, good rows imported."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from tests.factories import Factory, Tenant
from xobito.contact.csv_rows import ColumnMapping, CsvSource, Start
from xobito.contact.import_runner import (
    ErrorReport,
    ImportProgress,
    Read,
    ThreadReader,
    error_report_lines,
    import_batch,
    run_import,
)
from xobito.contact.importing import ContactImporter, RowError, preview
from xobito.contact.repository import ContactRepository
from xobito.contact.schemas import COLUMNS
from xobito.contact.service import PLAN_LIMIT
from xobito.kit.time import utcnow

HEADER = ["firstname", "lastname", "phone", "email", "type", "source_id", "status_id", "groups"]


def csv_bytes(rows: list[dict[str, Any]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


def src(rows: list[dict[str, Any]], header: list[str] = HEADER) -> CsvSource:
    return CsvSource(io.BytesIO(csv_bytes(rows, header)))


async def labels(factory: Factory, t: Tenant) -> dict[str, Any]:
    return {"source_id": (await factory.source(t)).id, "status_id": (await factory.status(t)).id}


async def run(
    app: FastAPI, t: Tenant, source: CsvSource, batch: int = 1000
) -> tuple[ImportProgress, list[RowError]]:
    errors: list[RowError] = []

    async def keep(_: ImportProgress, found: list[RowError]) -> None:
        errors.extend(found)

    done = await run_import(app.state.sessionmaker, t.info, source, batch_size=batch,
                            after_batch=keep)  # fmt: skip
    return done, errors


async def listed(client: httpx.AsyncClient, t: Tenant) -> list[dict[str, Any]]:
    resp = await client.get(t.url("/contacts?per_page=100"), headers=t.headers)
    assert resp.status_code == 200, resp.text
    data: list[dict[str, Any]] = resp.json()["data"]["data"]
    return data


async def test_good_rows_become_the_contacts_the_api_would_create(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    existing = await factory.group(t, "vip")
    rows = [
        {"firstname": "Ada", "lastname": "Lovelace", "phone": "+1 (415) 555-0101",
         "email": "ada@example.com", "type": "lead", "groups": "vip, new , ,new", **ids},
        {"firstname": "Bob", "phone": "14155550102", "type": "customer", **ids},
    ]  # fmt: skip
    done, errors = await run(app, t, src(rows))
    assert errors == []
    assert (done.rows_done, done.imported, done.failed, done.finished) == (2, 2, 0, True)
    imported = await listed(client, t)
    assert [c["phone"] for c in imported] == ["+14155550101", "+14155550102"]
    new = next(g for g in await _groups(client, t) if g["name"] == "new")
    assert imported[0]["group_id"] == sorted([existing.id, new["id"]])
    assert imported[1]["group_id"] == []
    assert imported[0]["email"] == "ada@example.com" and imported[1]["lastname"] is None
    for record in imported:  # GET /contacts/{id} tells the same
        one = await client.get(t.url(f"/contacts/{record['id']}"), headers=t.headers)
        assert one.json()["data"] == record
        assert record["created_at"] == record["updated_at"]
        assert (record["is_enabled"], record["is_opted_out"], record["tenant_id"]) == (
            1, 0, t.workspace.id)  # fmt: skip


async def _groups(client: httpx.AsyncClient, t: Tenant) -> list[dict[str, Any]]:
    resp = await client.get(t.url("/groups?per_page=100"), headers=t.headers)
    data: list[dict[str, Any]] = resp.json()["data"]["data"]
    return data


async def test_refused_rows_carry_the_api_messages_and_write_nothing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    other = await factory.tenant()
    foreign = await labels(factory, other)
    bad: list[dict[str, Any]] = [
        {"phone": "+14155550201", "type": "lead", **ids},
        {"firstname": "A", "phone": "12", "type": "lead", **ids},
        {"firstname": "A", "phone": "+14155550203", "type": "guest", "email": "nope", **ids},
        {"firstname": "A", "phone": "+14155550204", "type": "lead", **foreign},
        {"firstname": "x" * 256, "phone": "+14155550205", "type": "lead", "source_id": "abc",
         "status_id": str(2**40), "groups": "g" * 256},
        {"firstname": "Nul\x00", "phone": "+14155550206", "type": "lead", **ids},
    ]  # fmt: skip
    done, errors = await run(app, t, src(bad))
    assert (done.imported, done.failed) == (0, len(bad))
    assert await listed(client, t) == []
    assert await _groups(client, t) == []
    by_line: dict[int, dict[str, list[str]]] = {}
    for e in errors:
        assert e.field is not None
        by_line.setdefault(e.line, {}).setdefault(e.field, []).append(e.message)
    assert sorted(by_line) == list(range(2, 2 + len(bad)))
    for line, row in enumerate(bad, start=2):
        body = {k: v for k, v in row.items() if v is not None}
        resp = await client.post(t.url("/contacts"), json=body, headers=t.headers)
        assert resp.status_code == 422, resp.text
        assert by_line[line] == resp.json()["errors"], (line, row)
        assert list(by_line[line]) == list(resp.json()["errors"])  # the same field order


async def test_uniqueness_against_the_workspace_and_earlier_rows(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    await factory.contact(t, phone="+14155550300", email="Taken@Example.com", **ids)
    rows = [
        {"firstname": "A", "phone": "+14155550300", "type": "lead", **ids},  # in the workspace
        {"firstname": "B", "phone": "+14155550301", "email": "taken@example.COM", "type": "lead",
         **ids},  # email, whatever its case
        {"firstname": "", "phone": "+14155550302", "type": "lead", **ids},  # refused ...
        {"firstname": "D", "phone": "+1 415 555 0302", "type": "lead", **ids},  # ... so free
        {"firstname": "E", "phone": "+14155550302", "type": "lead", **ids},  # taken by D
        {"firstname": "F", "phone": "+14155550305", "email": "f@x.io", "type": "lead", **ids},
        {"firstname": "G", "phone": "+14155550306", "email": "F@X.IO", "type": "lead", **ids},
    ]  # fmt: skip
    done, errors = await run(app, t, src(rows), batch=3)  # crossing batch boundaries
    assert (done.imported, done.failed) == (2, 5)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (2, "phone", "The phone has already been taken."),
        (3, "email", "The email has already been taken."),
        (4, "firstname", "The firstname field is required."),
        (6, "phone", "The phone has already been taken."),
        (8, "email", "The email has already been taken."),
    ]
    phones = [c["phone"] for c in await listed(client, t)]
    assert phones == ["+14155550300", "+14155550302", "+14155550305"]


async def test_a_phone_taken_by_another_writer_mid_import_is_reported_and_the_rest_imported(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    """On PostgreSQL the next batch is judged while one is written, so a phone another
    writer takes in between reaches the bulk write: the batch is judged again and written
    without that row. On SQLite the batch is judged after the writer: the same outcome."""
    t = await factory.tenant()
    ids = await labels(factory, t)
    rows = [{"firstname": f"M{i}", "phone": f"+1415555080{i}", "type": "lead", **ids}
            for i in range(9)]  # fmt: skip
    taken = False

    async def another_writer(progress: ImportProgress, _: list[RowError]) -> None:
        nonlocal taken
        if not taken:  # after the first batch: a phone of the second
            taken = True
            await factory.contact(t, firstname="Other", phone="+14155550804", **ids)

    done = await run_import(
        app.state.sessionmaker, t.info, src(rows), batch_size=3, after_batch=another_writer
    )
    assert (done.imported, done.failed, done.rows_done) == (8, 1, 9)
    names = {c["phone"]: c["firstname"] for c in await listed(client, t)}
    assert names["+14155550804"] == "Other"
    assert sorted(n for n in names.values() if n != "Other") == [
        f"M{i}" for i in range(9) if i != 4
    ]


async def test_a_reader_failing_mid_import_leaves_the_batch_being_written_reported(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    """The next batch is read while one is written: when reading fails, the write under
    way still commits and is reported before the error surfaces."""
    t = await factory.tenant()
    ids = await labels(factory, t)
    rows = [{"firstname": f"N{i}", "phone": f"+1415555090{i}", "type": "lead", **ids}
            for i in range(5)]  # fmt: skip
    rows.insert(1, {"firstname": "", "phone": "+14155550999", "type": "lead", **ids})
    source = src(rows)

    class Failing(ThreadReader):
        calls = 0

        def read(self, start: Start) -> Awaitable[Read]:
            self.calls += 1
            if self.calls == 2:
                return asyncio.ensure_future(self._fail())
            return super().read(start)

        async def _fail(self) -> Read:
            raise OSError("disk gone")

    reported: list[tuple[int, list[RowError]]] = []

    async def keep(progress: ImportProgress, errors: list[RowError]) -> None:
        reported.append((progress.imported, errors))

    with pytest.raises(OSError, match="disk gone"):
        await run_import(
            app.state.sessionmaker,
            t.info,
            source,
            batch_size=3,
            after_batch=keep,
            reader=Failing(source, 3),
        )
    assert reported == [(2, [RowError(3, "firstname", "The firstname field is required.")])]
    assert [c["firstname"] for c in await listed(client, t)] == ["N0", "N1"]


async def test_plan_limit_refuses_rows_past_it(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant(max_contacts=3)
    ids = await labels(factory, t)
    await factory.contact(t, **ids)
    rows = [
        {"firstname": f"P{i}", "phone": f"+1415555040{i}", "type": "lead", **ids} for i in range(4)
    ]
    rows.insert(1, {"firstname": "bad", "phone": "x", "type": "lead", **ids})
    done, errors = await run(app, t, src(rows), batch=2)
    assert (done.imported, done.failed) == (2, 3)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (3, "phone", "The phone format is invalid."),  # validation comes first, as in the API
        (5, None, PLAN_LIMIT),
        (6, None, PLAN_LIMIT),
    ]
    assert len(await listed(client, t)) == 3


async def test_malformed_rows_are_reported_and_the_rest_imported(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    text = (
        "firstname,phone,type,source_id,status_id\n"
        f"A,+14155550501,lead,{ids['source_id']},{ids['status_id']},surplus\n"
        f"B,+14155550502,lead,{ids['source_id']},{ids['status_id']}\n"
    )
    done, errors = await run(app, t, CsvSource(io.BytesIO(text.encode())))
    assert errors == [RowError(2, None, "The row has 6 cells; the header names 5 columns.")]
    assert (done.imported, done.failed) == (1, 1)


async def test_an_import_resumes_from_where_a_batch_ended(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    rows = [{"firstname": f"R{i}", "phone": f"+1415555060{i}", "type": "lead", **ids}
            for i in range(5)]  # fmt: skip
    source = src(rows)
    progress = ImportProgress(rows_total=5, resume_at=source.first)
    seen = []
    while not progress.finished:
        # A fresh importer and transaction each time, as a job retried by another worker.
        async with app.state.sessionmaker() as s:
            progress, _ = await import_batch(s, ContactImporter(t.info), source, progress, 2)
            await s.commit()
        seen.append((progress.rows_done, progress.imported))
    assert seen == [(2, 2), (4, 4), (5, 5)]
    assert [c["firstname"] for c in await listed(client, t)] == [f"R{i}" for i in range(5)]


async def test_a_bulk_write_breaking_a_constraint_fails_whole_and_the_batch_goes_on(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    """What a batch meets when a concurrent writer took a phone after it was judged: the
    bulk write (COPY on PostgreSQL) raises IntegrityError, like an INSERT, leaves nothing
    behind, and the transaction carries on from its savepoint (the importer then judges the
    batch again)."""
    t = await factory.tenant()
    ids = await labels(factory, t)
    await factory.contact(t, phone="+14155550700", **ids)
    group = (await factory.group(t)).id
    now = utcnow()

    def row(phone: str) -> dict[str, Any]:
        values: dict[str, Any] = dict.fromkeys(COLUMNS)
        values.update(firstname="W", type="lead", phone=phone, **ids)
        values.update(is_enabled=True, is_opted_out=False, created_at=now, updated_at=now)
        return values

    async with app.state.sessionmaker() as s:
        repo = ContactRepository(s, t.workspace.id)
        with pytest.raises(IntegrityError):
            async with s.begin_nested():
                await repo.insert_many([row("+14155550701"), row("+14155550700")])
        [new] = await repo.insert_many([row("+14155550702")])
        await repo.add_memberships([(new, group)])
        with pytest.raises(IntegrityError):
            async with s.begin_nested():
                await repo.add_memberships([(new, 2**31 - 1)])  # no such group
        await s.commit()
    contacts = await listed(client, t)
    assert [c["phone"] for c in contacts] == ["+14155550700", "+14155550702"]
    assert len(contacts[1]["group_id"]) == 1


async def test_preview_judges_the_first_rows_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    t = await factory.tenant()
    ids = await labels(factory, t)
    header = ["Name", "Mobile", "Kind", "Shoe size"]
    rows = [{"Name": "A", "Mobile": "+14155550701", "Kind": "lead"},
            {"Name": "B", "Mobile": "nope", "Kind": "lead"},
            {"Name": "C", "Mobile": "+14155550703", "Kind": "lead"}]  # fmt: skip
    mapping = ColumnMapping({"Name": "firstname", "Mobile": "phone", "Kind": "type"},
                            {"source_id": str(ids["source_id"])})  # fmt: skip
    source = CsvSource(io.BytesIO(csv_bytes(rows, header)), mapping)
    async with app.state.sessionmaker() as s:
        seen = await preview(s, t.info, source, rows=2)
    assert seen.columns == {"Name": "firstname", "Mobile": "phone", "Kind": "type"}
    assert seen.unmapped == ["Shoe size"]
    assert seen.missing_required == ["status_id"]
    assert [r.line for r in seen.rows] == [2, 3]
    assert seen.rows[0].values["source_id"] == str(ids["source_id"])
    assert {e.field for e in seen.rows[0].errors} == {"status_id"}
    assert {(e.field, e.message) for e in seen.rows[1].errors} == {
        ("phone", "The phone format is invalid."),
        ("status_id", "The status id field is required."),
    }
    assert not seen.rows[1].valid
    assert await listed(client, t) == []


def test_error_report_csv() -> None:
    errors = [RowError(3, "phone", 'The "phone", has, commas.'), RowError(9, None, PLAN_LIMIT)]
    out = io.StringIO()
    ErrorReport(out).add(errors)
    parsed = list(csv.reader(io.StringIO(out.getvalue())))
    assert parsed == [
        ["line", "field", "message"],
        ["3", "phone", 'The "phone", has, commas.'],
        ["9", "", PLAN_LIMIT],
    ]
    assert "".join(error_report_lines(errors)) == out.getvalue()
