"""``xobito contact import|export`` against the test database.

The commands run ``asyncio.run`` themselves, so they run in a worker thread while the test's
own loop builds data through the factories and reads results through the HTTP app.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import httpx
from typer.testing import Result

from tests.cli.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.factories import Factory, Tenant
from xobito.contact.exporting import HEADER


async def invoke(runner: Cli, *args: str) -> Result:
    return await asyncio.to_thread(runner, *args)


async def contacts(client: httpx.AsyncClient, t: Tenant) -> list[dict[str, Any]]:
    resp = await client.get(t.url("/contacts?per_page=100"), headers=t.headers)
    data: list[dict[str, Any]] = resp.json()["data"]["data"]
    return data


async def test_import_reports_bad_rows_by_line_and_imports_the_rest(
    cli: Cli, client: httpx.AsyncClient, factory: Factory, tmp_path: Path  # noqa: F811
) -> None:
    t = await factory.tenant()
    status, source = await factory.status(t), await factory.source(t)
    file = tmp_path / "people.csv"
    file.write_text(
        "First Name,Phone,Type,Groups,Notes\n"
        "Ada,+1 415 555 0101,lead,vip,likes tea\n"
        "Bob,12,lead,,\n"
        "Cy,+14155550103,visitor,,\n"
        '"Di\nana",+14155550104,customer,"vip, new",\n'
    )
    result = await invoke(cli, "contact", "import", t.workspace.subdomain, str(file),
                          "--set", f"status_id={status.id}", "--set", f"source_id={source.id}",
                          "--map", "Notes=")  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "4 rows read: 2 contacts imported, 2 rows refused." in result.stdout
    assert "line 3, phone: The phone format is invalid." in result.stderr
    assert "line 4, type: The selected type is invalid." in result.stderr
    report = tmp_path / "people.csv.errors.csv"
    assert f"Error report: {report}" in result.stdout.replace("\n", "")
    assert list(csv.reader(report.open())) == [
        ["line", "field", "message"],
        ["3", "phone", "The phone format is invalid."],
        ["4", "type", "The selected type is invalid."],
    ]
    stored = await contacts(client, t)
    assert [(c["firstname"], c["phone"], len(c["group_id"])) for c in stored] == [
        ("Ada", "+14155550101", 1),
        ("Di\nana", "+14155550104", 2),
    ]


async def test_import_of_a_clean_file_exits_zero_and_leaves_no_report(
    cli: Cli, client: httpx.AsyncClient, factory: Factory, tmp_path: Path  # noqa: F811
) -> None:
    t = await factory.tenant()
    status, source = await factory.status(t), await factory.source(t)
    file = tmp_path / "ok.csv"
    file.write_text(f"firstname,phone,type,source_id,status_id\nAda,+14155550101,lead,"
                    f"{source.id},{status.id}\n")  # fmt: skip
    result = await invoke(cli, "contact", "import", t.workspace.subdomain, str(file))
    assert result.exit_code == 0, result.output
    assert "1 contacts imported, 0 rows refused" in result.stdout
    assert not (tmp_path / "ok.csv.errors.csv").exists()
    assert len(await contacts(client, t)) == 1


async def test_import_refuses_a_whole_file_it_cannot_use(
    cli: Cli, client: httpx.AsyncClient, factory: Factory, tmp_path: Path  # noqa: F811
) -> None:
    t = await factory.tenant()
    file = tmp_path / "f.csv"
    file.write_text("firstname,phone\nAda,+14155550101\n")
    result = await invoke(cli, "contact", "import", t.workspace.subdomain, str(file))
    assert result.exit_code == 1
    assert "No column fills the required field(s) type, source_id, status_id" in result.stderr
    file.write_bytes(b"firstname,phone,type,source_id,status_id\nZo\xeb,1,lead,1,1\n")
    result = await invoke(cli, "contact", "import", t.workspace.subdomain, str(file))
    assert result.exit_code == 1
    assert "Line 2 is not valid UTF-8" in result.stderr
    result = await invoke(cli, "contact", "import", "nope", str(file))
    assert result.exit_code == 1
    assert "Workspace not found" in result.stderr
    result = await invoke(cli, "contact", "import", t.workspace.subdomain, str(file),
                          "--map", "x")  # fmt: skip
    assert result.exit_code == 2
    assert await contacts(client, t) == []


async def test_export_then_import_into_another_workspace_gives_the_same_contacts(
    cli: Cli, client: httpx.AsyncClient, factory: Factory, tmp_path: Path  # noqa: F811
) -> None:
    a = await factory.tenant()
    status, source = await factory.status(a), await factory.source(a)
    ids = {"status_id": status.id, "source_id": source.id}
    await factory.contact(a, firstname="=HYPERLINK(\"x\")", lastname="O'Brien, Jr.",
                          email="-x@example.com", groups="vip, new", company="+ACME",
                          description="two\nlines", city="Zürich", **ids)  # fmt: skip
    for _ in range(4):
        await factory.contact(a, **ids)
    out = tmp_path / "export.csv"
    result = await invoke(cli, "contact", "export", a.workspace.subdomain, "-o", str(out),
                          )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert list(rows[0]) == list(HEADER)
    assert rows[0]["firstname"] == "'=HYPERLINK(\"x\")"  # escaped against formula injection
    assert rows[0]["company"] == "'+ACME" and rows[0]["email"] == "'-x@example.com"
    assert rows[0]["groups"] == "vip, new"
    assert len(rows) == 5

    b = await factory.tenant()
    b_status, b_source = await factory.status(b), await factory.source(b)
    result = await invoke(cli, "contact", "import", b.workspace.subdomain, str(out),
                          "--map", "status_id=", "--map", "source_id=",
                          "--set", f"status_id={b_status.id}",
                          "--set", f"source_id={b_source.id}")  # fmt: skip
    assert result.exit_code == 0, result.output
    keep = ("firstname", "lastname", "phone", "email", "type", "company", "description", "city")
    before, after = await contacts(client, a), await contacts(client, b)
    assert [{k: c[k] for k in keep} for c in after] == [{k: c[k] for k in keep} for c in before]
    assert len(after[0]["group_id"]) == 2


async def test_export_to_stdout_with_filters(
    cli: Cli, factory: Factory  # noqa: F811
) -> None:
    t = await factory.tenant()
    status, source = await factory.status(t), await factory.source(t)
    other = await factory.status(t)
    await factory.contact(t, firstname="Keep", status_id=status.id, source_id=source.id)
    await factory.contact(t, firstname="Drop", status_id=other.id, source_id=source.id)
    stranger = await factory.tenant()
    await factory.contact(stranger, firstname="Keep too?")
    result = await invoke(cli, "contact", "export", t.workspace.subdomain,
                          "--status-id", str(status.id))  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["firstname"] for r in rows] == ["Keep"]
    result = await invoke(cli, "contact", "export", t.workspace.subdomain, "--search", "drop")
    assert [r["firstname"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["Drop"]
