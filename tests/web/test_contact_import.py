"""Contacts CSV import (upload, column mapping, preview, a job importing batch by batch, the
error report) and export (streamed, the list's filters) in the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field_errors, main_text, soup, texts
from xobito.contact.tasks import GAVE_UP, import_step
from xobito.contact.uploads import IMPORT_JOB, ImportService
from xobito.jobs.handlers import give_up_handlers, job_handlers, process_inbox
from xobito.jobs.maintenance import purge
from xobito.jobs.worker import Worker
from xobito.kit.time import utcnow
from xobito.models import ActivityEntry, Contact, ContactImport, ContactImportChunk, Job

SignedIn = Any

# Two bad rows: line 3 (phone), line 5 (the email of line 2).
PEOPLE = (
    "First Name,Last Name,Mobile,E-mail,Company\n"
    "Ada,Lovelace,+14155552671,ada@example.com,Analytical\n"
    "Bad,Phone,not a phone,bad@example.com,\n"
    "Grace,Hopper,+14155552672,grace@example.com,Navy\n"
    "Again,Ada,+14155552673,ADA@example.com,\n"
    "Alan,Turing,+14155552674,,Bletchley\n"
)


async def upload(client: WebClient, text: str | bytes, name: str = "people.csv") -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    return await client.post(
        "/app/acme/contacts/import", {}, files={"file": (name, data, "text/csv")}
    )


def mapping(status_id: int, source_id: int, **columns: str) -> dict[str, str]:
    body = {"default_status_id": str(status_id), "default_source_id": str(source_id)}
    body["default_type"] = "lead"
    body |= columns
    return body


async def run_jobs(app: FastAPI) -> None:
    await Worker(app.state.sessionmaker, job_handlers(app.state.providers), process_inbox).drain()


async def test_owner_maps_previews_imports_and_downloads_the_errors(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession, app: FastAPI
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    owner: WebClient = await signed_in("owner")
    assert (await owner.get("/app/acme/contacts/import")).status_code == 200
    r = await upload(owner, PEOPLE)
    assert r.status_code == 303
    page_url = r.headers["location"]
    import_id = int(page_url.rsplit("/", 1)[1])

    page = soup(await owner.get(page_url))
    # Columns are matched by name; "Mobile" is not a field name, so it waits for a choice.
    chosen = {
        s["id"]: (s.find("option", selected=True) or {}).get("value", "")  # type: ignore[union-attr]
        for s in page.select("select[id^=col-]")
    }
    assert chosen == {"col-0": "firstname", "col-1": "lastname", "col-2": "", "col-3": "email",
                      "col-4": "company"}  # fmt: skip
    assert "No column or value for: Phone, Type, Source, Status." in main_text(page)

    columns = {"col_0": "firstname", "col_1": "lastname", "col_2": "phone", "col_3": "email"}
    r = await owner.post(
        f"/app/acme/contacts/import/{import_id}/preview",
        mapping(status.id, source.id, **columns),
        htmx=True,
    )
    assert r.status_code == 200 and "<html" not in r.text
    preview = soup(r)
    assert "3 of the first 5 rows would be imported as they are." in preview.get_text(" ")
    checks = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")][-1]
        for tr in preview.select("tbody tr")
    ]
    assert checks == [
        "Ready",
        "The phone format is invalid.",
        "Ready",
        "The email has already been taken.",
        "Ready",
    ]

    # Starting without values for the required fields is refused, nothing queued.
    r = await owner.post(f"/app/acme/contacts/import/{import_id}/start", columns)
    assert r.status_code == 422
    assert (
        "Choose a column or a value for every required field: Type, Source, Status."
        in main_text(soup(r))
    )
    r = await owner.post(
        f"/app/acme/contacts/import/{import_id}/start", mapping(status.id, source.id, **columns)
    )
    assert (r.status_code, r.headers["location"]) == (303, page_url)
    progress = soup(await owner.get(page_url, htmx=True, headers={"HX-Target": "import-progress"}))
    region = progress.find(id="import-progress")
    assert region is not None and region.get("hx-trigger") == "every 1s"  # polling
    assert "Waiting to start" in region.get_text()

    await run_jobs(app)
    r = await owner.get(page_url, htmx=True, headers={"HX-Target": "import-progress"})
    region = soup(r).find(id="import-progress")
    assert region is not None and region.get("hx-trigger") is None  # the polling stops
    assert "3 contacts imported; 2 rows refused." in region.get_text(" ", strip=True)
    assert region.find("a", string="Download the refused rows (CSV)") is not None

    r = await owner.get(f"/app/acme/contacts/import/{import_id}/errors.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="people-errors.csv"' in r.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(r.text))) == [
        ["line", "field", "message"],
        ["3", "phone", "The phone format is invalid."],
        ["5", "email", "The email has already been taken."],
    ]
    await session.rollback()
    names = (await session.execute(select(Contact.firstname).order_by(Contact.id))).scalars()
    assert list(names) == ["Ada", "Grace", "Alan"]
    contact = (
        await session.execute(select(Contact).where(Contact.firstname == "Alan"))
    ).scalar_one()
    assert (contact.status_id, contact.source_id, contact.type) == (status.id, source.id, "lead")
    # The file is not kept after the import; the activity log names who imported what.
    assert (await session.execute(select(ContactImportChunk))).first() is None
    actions = (await session.execute(select(ActivityEntry.action, ActivityEntry.summary))).all()
    assert ("contacts.import_finished", "Imported 3 contacts from people.csv; 2 rows refused") in [
        tuple(a) for a in actions
    ]
    recent = await owner.get("/app/acme/contacts/import")
    assert texts(soup(recent), "tbody td:nth-of-type(2)") == ["Done"]


async def test_each_batch_commits_whole_and_a_failed_one_leaves_nothing(
    team: Team, factory: Factory, app: FastAPI
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    rows = "".join(f"P{n},X,+1415555{3000 + n},lead\n" for n in range(5))
    text = f"firstname,lastname,phone,type\n{rows}"
    sm = app.state.sessionmaker
    async with sm() as s:
        service = ImportService(s, team.a.info)
        imp = await service.upload("five.csv", io.BytesIO(text.encode()), None)
        m = service.mapping_of(imp)
        m.defaults = {"status_id": str(status.id), "source_id": str(source.id)}
        await service.start(imp, m)
        await s.commit()
        import_id = imp.id

    async def contacts() -> int:
        async with sm() as s:
            return int(await s.scalar(select(func.count()).select_from(Contact)) or 0)

    async with sm() as s:  # a batch whose transaction never commits (a worker killed)
        await import_step(s, {"import_id": import_id}, batch_size=2)
        await s.rollback()
    assert await contacts() == 0
    done = []
    for _ in range(3):
        async with sm() as s:
            await import_step(s, {"import_id": import_id}, batch_size=2)
            await s.commit()
            row = await s.get(ContactImport, import_id)
            assert row is not None
            done.append((row.rows_done, row.imported, row.state))
        assert await contacts() == done[-1][1]
    assert done == [(2, 2, "running"), (4, 4, "running"), (5, 5, "done")]
    async with sm() as s:  # a repeated job after the end changes nothing
        await import_step(s, {"import_id": import_id}, batch_size=2)
        await s.commit()
    assert await contacts() == 5


async def test_an_import_whose_job_keeps_failing_ends_failed_keeping_what_it_imported(
    signed_in: SignedIn, team: Team, factory: Factory, app: FastAPI
) -> None:
    """A batch that fails every attempt (here: the disk under the worker) does not leave the
    import "Importing..." for ever: after the job's last attempt the import is failed, says
    so, and what earlier batches committed stays."""
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    rows = "".join(f"P{n},X,+1415555{3100 + n},lead\n" for n in range(5))
    sm = app.state.sessionmaker
    async with sm() as s:
        service = ImportService(s, team.a.info)
        imp = await service.upload(
            "five.csv", io.BytesIO(f"firstname,lastname,phone,type\n{rows}".encode()), None
        )
        m = service.mapping_of(imp)
        m.defaults = {"status_id": str(status.id), "source_id": str(source.id)}
        await service.start(imp, m)
        await s.commit()
        import_id = imp.id
    async with sm() as s:  # the first batch goes in, then the worker's disk fails
        await import_step(s, {"import_id": import_id}, batch_size=2)
        await s.commit()

    async def disk_full(session: AsyncSession, payload: dict[str, Any]) -> None:
        raise OSError(28, "No space left on device")

    worker = Worker(sm, {IMPORT_JOB: disk_full}, process_inbox, give_up_handlers=give_up_handlers())
    states = []
    for _ in range(6):  # each retry made due now instead of after its backoff
        async with sm() as s:
            await s.execute(update(Job).where(Job.finished_at.is_(None)).values(run_at=utcnow()))
            await s.commit()
        await worker.drain()
        async with sm() as s:
            row = await s.get(ContactImport, import_id)
            assert row is not None
            states.append(row.state)
    assert states == ["running"] * 4 + ["failed"] * 2  # the job's 5 attempts, then no more
    async with sm() as s:
        row = await s.get(ContactImport, import_id)
        assert row is not None and (row.problem, row.imported) == (GAVE_UP, 2)
        assert (await s.execute(select(ContactImportChunk))).first() is None  # file dropped
        # (two jobs: the one queued at the start, never run here, and the next batch's)
        jobs = (await s.execute(select(Job).where(Job.kind == IMPORT_JOB))).scalars().all()
        assert [(j.attempts, j.finished_at is not None) for j in jobs] == [(5, True), (5, True)]
        assert all("No space left" in (j.last_error or "") for j in jobs)
        summaries = (await s.execute(select(ActivityEntry.action, ActivityEntry.summary))).all()
        assert ("contacts.import_failed", f"Import of five.csv failed: {GAVE_UP}") in [
            tuple(a) for a in summaries
        ]
    owner: WebClient = await signed_in("owner")
    r = await owner.get(
        f"/app/acme/contacts/import/{import_id}",
        htmx=True,
        headers={"HX-Target": "import-progress"},
    )
    region = soup(r).find(id="import-progress")
    assert region is not None and region.get("hx-trigger") is None  # no more polling
    text = region.get_text(" ", strip=True)
    assert "Import failed" in text and GAVE_UP in text
    assert "2 contacts from the first 2 rows stay imported; the rest of the file was not." in text


async def test_files_it_cannot_use_are_refused(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession, app: FastAPI
) -> None:
    owner: WebClient = await signed_in("admin")
    r = await upload(owner, b"")
    assert r.status_code == 422
    assert field_errors(soup(r), "CSV file") == ["The file field is required."]
    r = await upload(owner, "First name,Phone\n".encode("utf-16"))
    assert field_errors(soup(r), "CSV file") == [
        "Line 1 is not valid UTF-8: save the file as CSV UTF-8 and upload it again."
    ]
    # A bad line further down: found before anything is imported, and nothing is.
    status = await factory.status(team.a)
    source = await factory.source(team.a)
    text = b"firstname;phone;type\nAnn;+14155550101;lead\nB\xe9a;+14155550102;lead\n"
    r = await upload(owner, text, "semicolons.csv")
    assert r.status_code == 303
    import_id = int(r.headers["location"].rsplit("/", 1)[1])
    body = {"col_0": "firstname", "col_1": "phone", "col_2": "type"}
    body |= {"default_status_id": str(status.id), "default_source_id": str(source.id)}
    assert (
        await owner.post(f"/app/acme/contacts/import/{import_id}/start", body)
    ).status_code == 303
    await run_jobs(app)
    page = main_text(soup(await owner.get(r.headers["location"])))
    assert "Import failed" in page
    assert "Line 3 is not valid UTF-8" in page and "Nothing from this file was imported." in page
    await session.rollback()
    assert (await session.execute(select(Contact))).first() is None


async def test_export_streams_the_filtered_list(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    vip = await factory.status(team.a, "VIP")
    await factory.contact(team.a, firstname="Ann", status_id=vip.id, company="=HYPERLINK()")
    await factory.contact(team.a, firstname="Bob")
    await factory.contact(team.b, firstname="Theirs")
    owner: WebClient = await signed_in("owner")
    list_page = soup(await owner.get(f"/app/acme/contacts?status_id={vip.id}"))
    link = list_page.find("a", string="Export CSV")
    assert link is not None and link["href"] == f"/app/acme/contacts/export?status_id={vip.id}"
    r = await owner.get(str(link["href"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="contacts-acme-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(row["firstname"], row["company"]) for row in rows] == [("Ann", "'=HYPERLINK()")]
    everyone = list(
        csv.DictReader(io.StringIO((await owner.get("/app/acme/contacts/export")).text))
    )
    assert sorted(row["firstname"] for row in everyone) == ["Ann", "Bob"]


async def test_agents_cannot_import_or_export_and_imports_are_per_workspace(
    signed_in: SignedIn, team: Team, browser: Any, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    r = await upload(owner, "firstname,phone\nAnn,+14155550101\n")
    import_id = int(r.headers["location"].rsplit("/", 1)[1])
    agent: WebClient = await signed_in("agent")
    assert "Import" not in texts(soup(await agent.get("/app/acme/contacts")), ".actions a")
    for resp in (
        await agent.get("/app/acme/contacts/import"),
        await upload(agent, "firstname,phone\nAnn,+14155550101\n"),
        await agent.get(f"/app/acme/contacts/import/{import_id}"),
        await agent.get("/app/acme/contacts/export"),
    ):
        assert resp.status_code == 403
    other: WebClient = await browser()
    await other.sign_in(team.b_owner.email)
    for path in ("", "/errors.csv"):
        resp = await other.get(f"/app/globex/contacts/import/{import_id}{path}")
        assert resp.status_code == 404
    resp = await other.post(f"/app/globex/contacts/import/{import_id}/start", {"col_0": "phone"})
    assert resp.status_code == 404
    await session.rollback()
    assert (await session.execute(select(Job))).first() is None


async def test_markup_in_a_file_is_shown_as_text(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    owner: WebClient = await signed_in("owner")
    evil = "<script>alert(1)</script>"
    r = await upload(owner, f"firstname,phone\n{evil},+14155550101\n", "<b>x</b>.csv")
    page = await owner.get(r.headers["location"])
    assert evil not in page.text and "<b>x</b>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert evil in main_text(soup(page))


async def test_uploads_never_started_are_removed_after_a_day(
    team: Team, app: FastAPI, session: AsyncSession
) -> None:
    async with app.state.sessionmaker() as s:
        service = ImportService(s, team.a.info)
        old = await service.upload("old.csv", io.BytesIO(b"firstname\nAnn\n"), None)
        started = await service.upload("started.csv", io.BytesIO(b"firstname\nBo\n"), None)
        await service.upload("new.csv", io.BytesIO(b"firstname\nCy\n"), None)
        old.created_at = started.created_at = utcnow() - timedelta(days=2)
        started.state = "done"
        await s.commit()
    counts = await purge(session, app.state.settings, utcnow())
    await session.commit()
    assert counts["contact_import_drafts"] == 1
    left = (await session.execute(select(ContactImport.filename).order_by(ContactImport.id))).all()
    assert [name for (name,) in left] == ["started.csv", "new.csv"]
    chunks = (await session.execute(select(ContactImportChunk.import_id))).scalars().all()
    assert old.id not in chunks and chunks
