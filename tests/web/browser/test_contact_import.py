"""Importing contacts from a CSV file in a real browser, down to the downloaded error report,
and exporting them."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from fastapi import FastAPI
from playwright.async_api import Page

from tests.factories import Factory
from tests.web.browser.conftest import expect, sign_in
from tests.web.conftest import Team
from xobito.jobs.handlers import job_handlers, process_inbox
from xobito.jobs.worker import Worker

# Lines 3 and 5 are refused: a phone that is not one, and the email of line 2 again.
PEOPLE = (
    "First Name,Last Name,Mobile,E-mail,Company\n"
    "Ada,Lovelace,+14155552671,ada@example.com,Analytical Engines\n"
    "Bad,Phone,not a phone,bad@example.com,\n"
    "Grace,Hopper,+14155552672,grace@example.com,US Navy\n"
    "Again,Ada,+14155552673,ADA@example.com,\n"
    "Alan,Turing,+14155552674,,Bletchley Park\n"
)


async def test_owner_imports_a_csv_with_two_bad_rows_and_downloads_their_errors(
    page: Page, team: Team, factory: Factory, app: FastAPI, tmp_path: Path
) -> None:
    await factory.status(team.a, "New lead")
    await factory.source(team.a, "Trade fair")
    file = tmp_path / "people.csv"
    file.write_text(PEOPLE)
    await sign_in(page, team.owner.email)
    await page.get_by_role("link", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Import contacts")).to_be_visible()
    await page.get_by_label("CSV file").set_input_files(str(file))
    await page.get_by_role("button", name="Upload and map columns").click()

    await expect(page.get_by_role("heading", name="Map the columns of people.csv")).to_be_visible()
    await expect(page.get_by_label("Column “First Name”")).to_have_value("firstname")
    await page.get_by_label("Column “Mobile”").select_option("phone")
    await page.get_by_label("Status").select_option(label="New lead")
    await page.get_by_label("Source").select_option(label="Trade fair")
    await page.get_by_label("Type").select_option("lead")
    preview = page.locator("#import-preview")
    await expect(preview).to_contain_text("3 of the first 5 rows would be imported as they are.")
    await expect(preview.get_by_role("row")).to_have_count(6)
    await expect(preview).to_contain_text("The phone format is invalid.")
    await page.get_by_role("button", name="Start import").click()

    await expect(page.get_by_role("heading", name="Importing people.csv")).to_be_visible()
    await expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    # The import runs in the worker (the test server has none in process).
    await Worker(app.state.sessionmaker, job_handlers(app.state.providers), process_inbox).drain()
    # The page polls: no reload needed.
    await expect(page.get_by_text("3 contacts imported; 2 rows refused.")).to_be_visible()
    await expect(page.get_by_role("progressbar", name="Rows imported")).to_have_attribute(
        "value", "5"
    )
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download the refused rows (CSV)").click()
    download = await waiting.value
    assert download.suggested_filename == "people-errors.csv"
    saved = await download.path()
    rows = list(csv.reader(io.StringIO(await asyncio.to_thread(Path(saved).read_text))))
    assert rows == [
        ["line", "field", "message"],
        ["3", "phone", "The phone format is invalid."],
        ["5", "email", "The email has already been taken."],
    ]

    await page.get_by_role("link", name="Go to contacts").click()
    results = page.locator("#contacts-results")
    await expect(results.get_by_role("row")).to_have_count(4)  # header + 3
    await expect(results).to_contain_text("Grace Hopper")

    # Export what the search shows.
    await page.get_by_label("Search").fill("hopper")
    await expect(results.get_by_role("row")).to_have_count(2)
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Export CSV").click()
    exported = await waiting.value
    text = await asyncio.to_thread(Path(await exported.path()).read_text)
    names = [r["firstname"] for r in csv.DictReader(io.StringIO(text))]
    assert names == ["Grace"]
