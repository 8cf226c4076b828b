"""The wizard's files and drafts: a CSV audience (read when chosen, its bad rows by line, its
columns as variable sources; the campaign created by the API's service with new contacts of
the chosen status and source), the header medium by URL or upload, "Save as draft" and its
start, and the progress of a cancelled campaign."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup, texts
from tests.web.test_campaigns import LIST, PREVIEW, SignedIn, add_template, form
from xobito.campaign.engine import CampaignEngine
from xobito.campaign.pacing import MemoryPacer
from xobito.campaign.starting import start
from xobito.config import Settings
from xobito.kit.time import utcnow
from xobito.models import Campaign, CampaignRecipient, Contact, Template
from xobito.whatsapp.sandbox import SandboxProvider

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
CSV = (
    "Phone,Name,Code\n"
    "+12125550101,Kim,K1\n"
    ",Nobody,N1\n"  # line 3: no phone
    "+12125550102,,L2\n"
)


@pytest.fixture
async def engine(app: FastAPI, settings: Settings) -> AsyncIterator[CampaignEngine]:
    made = CampaignEngine(
        app.state.sessionmaker, {"sandbox": SandboxProvider()}, settings,
        pacer=MemoryPacer(), poll_seconds=0.05,
    )  # fmt: skip
    yield made
    await made.close()


@pytest.fixture
async def promo(app: FastAPI, team: Team) -> Template:
    return await add_template(app, team.a, "promo", body="Hi {{1}}, use code {{2}} at {{3}}.")


def csv_form(template: Template, status: int, source: int, **changes: Any) -> dict[str, Any]:
    """The wizard with a CSV audience: body {{1}} from the name column (fallback "friend"),
    {{2}} a constant, {{3}} from the code column."""
    values = {
        "audience_kind": "csv", "audience_all": "0",
        "var_field_1_kind": "csv", "var_field_1_column": "name", "var_field_1_fallback": "friend",
        "var_field_3_kind": "csv", "var_field_3_column": "code", "var_field_3_fallback": "",
        "csv_status_id": str(status), "csv_source_id": str(source),
    }  # fmt: skip
    return form(template, **(values | changes))


async def post_files(
    client: WebClient, path: str, data: dict[str, Any], files: dict[str, Any], **kwargs: Any
) -> Any:
    return await client.post(path, data, files=files, **kwargs)


async def test_a_chosen_csv_is_read_with_its_bad_rows_by_line_and_its_columns_offered(
    signed_in: SignedIn, team: Team, factory: Factory, app: FastAPI, promo: Template
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    admin = await signed_in("admin")
    assert field(soup(await admin.get(LIST + "/new")), "CSV file").get("type") == "file"
    page = soup(
        await admin.post(
            PREVIEW,
            {"template": str(promo.id)},
            htmx=True,
            headers={"HX-Target": "campaign-variables"},
        )
    )
    kinds = texts(field(page, "Body {{1}} comes from"), "option")
    assert kinds == ["A contact field", "The same text for everyone", "A column of the CSV file"]
    assert field(page, "Body {{1}} column").get("list") == "csv-columns"
    r = await post_files(
        admin, PREVIEW, csv_form(promo, status.id, source.id),
        {"csv_file": ("list.csv", CSV.encode(), "text/csv")},
        htmx=True, headers={"HX-Target": "campaign-csv"},
    )  # fmt: skip
    assert r.status_code == 200 and r.headers["HX-Trigger-After-Settle"] == "campaign-changed"
    region = soup(r)
    text = region.get_text(" ", strip=True)
    assert "list.csv : 3 rows, 2 numbers to send to" in text
    assert texts(region, "[data-csv-errors] li") == ["Line 3: The phone field is required."]
    assert [o["value"] for o in region.select("#csv-columns option")] == ["phone", "name", "code"]
    check = region.find("input", {"name": "csv_check"})["value"]
    # The summary, from what the check carries: the first row's message, from its cells.
    r = await admin.post(
        PREVIEW,
        csv_form(promo, status.id, source.id, csv_check=check),
        htmx=True,
        headers={"HX-Target": "campaign-summary"},
    )
    summary = soup(r)
    assert "2 numbers of list.csv will be sent the message; 1 row cannot be used" in (
        summary.get_text(" ", strip=True)
    )
    assert summary.select_one(".wa-body").get_text() == "Hi Kim, use code SPRING at K1."


async def test_a_csv_campaign_is_created_with_new_contacts_and_its_bad_row_reported(
    signed_in: SignedIn,
    team: Team,
    factory: Factory,
    app: FastAPI,
    promo: Template,
    engine: CampaignEngine,
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    admin = await signed_in("admin")
    r = await post_files(
        admin,
        LIST,
        csv_form(promo, status.id, source.id),
        {"csv_file": ("list.csv", CSV.encode(), "text/csv")},
    )
    assert r.status_code == 303, r.text
    campaign_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = soup(await admin.get(r.headers["location"]))
    assert "1 row of the CSV could not be used" in page.get_text()
    assert page.select_one("[data-csv-report]").get_text() == "3 rows read, 2 used, 1 left out."
    assert "Line 3: The phone field is required." in main_text(page)
    async with app.state.sessionmaker() as s:
        made = (
            await s.scalars(
                select(Contact)
                .where(Contact.workspace_id == team.a.workspace.id)
                .order_by(Contact.phone)
            )
        ).all()
        assert [(c.phone, c.status_id, c.source_id) for c in made] == [
            ("+12125550101", status.id, source.id),
            ("+12125550102", status.id, source.id),
        ]
    await engine.drain()
    async with app.state.sessionmaker() as s:
        rows = (
            await s.scalars(
                select(CampaignRecipient)
                .where(CampaignRecipient.campaign_id == campaign_id)
                .order_by(CampaignRecipient.phone)
            )
        ).all()
        # The second row's empty name takes the fallback.
        assert [(r.state, r.values) for r in rows] == [
            ("sent", {"field_1": "Kim", "field_2": "SPRING", "field_3": "K1"}),
            ("sent", {"field_1": "friend", "field_2": "SPRING", "field_3": "L2"}),
        ]


async def test_a_csv_audience_needs_its_file_status_and_source_and_the_columns_it_names(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Fair")
    admin = await signed_in("admin")
    r = await admin.post(LIST, csv_form(promo, status.id, source.id))
    assert r.status_code == 422
    assert field_errors(soup(r), "CSV file") == [
        "Choose the CSV file (after an error, choose it again: browsers do not keep it)."
    ]
    r = await post_files(
        admin,
        LIST,
        csv_form(promo, status.id, source.id, csv_status_id=""),
        {"csv_file": ("list.csv", CSV.encode(), "text/csv")},
    )
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "Status of new contacts") == [
        "The csv status id field is required when csv file is present."
    ]
    assert field(page, "Source of new contacts").find("option", selected=True)["value"] == str(
        source.id
    )
    r = await post_files(
        admin,
        LIST,
        csv_form(promo, status.id, source.id, var_field_3_column="coupon"),
        {"csv_file": ("list.csv", CSV.encode(), "text/csv")},
    )
    assert r.status_code == 422
    assert field_errors(soup(r), "CSV file") == [
        "The csv file has no column coupon (used by the variables)."
    ]


async def test_the_header_medium_is_sent_by_url_or_uploaded(
    signed_in: SignedIn, team: Team, factory: Factory, app: FastAPI
) -> None:
    await factory.contact(team.a, firstname="Ann")
    banner = await add_template(
        app, team.a, "banner", header={"format": "IMAGE"}, body="Hi {{1}}", body_examples=("Jo",)
    )
    admin = await signed_in("admin")
    base = {
        "name": "Banner",
        "template": str(banner.id),
        "var_field_1_kind": "contact",
        "var_field_1_field": "firstname",
        "var_field_1_fallback": "you",
        "audience_all": "1",
        "when": "now",
        "timezone": "UTC",
    }
    r = await admin.post(LIST, base)
    assert r.status_code == 422
    assert field_errors(soup(r), "Header image URL") == [
        "The header image url or header image file is required by this template."
    ]
    r = await admin.post(LIST, {**base, "header_url": "https://cdn.example.com/b.png"})
    assert r.status_code == 303, r.text
    by_url = int(r.headers["location"].rsplit("/", 1)[1])
    r = await post_files(admin, LIST, base, {"header_file": ("b.png", PNG, "image/png")})
    assert r.status_code == 303, r.text
    uploaded = int(r.headers["location"].rsplit("/", 1)[1])
    r = await post_files(admin, LIST, base, {"header_file": ("b.png", b"MZ\0\0", "image/png")})
    assert r.status_code == 422
    assert field_errors(soup(r), "Header image file")[0].startswith("The header image file must")
    async with app.state.sessionmaker() as s:
        first, second = await s.get(Campaign, by_url), await s.get(Campaign, uploaded)
        assert first is not None and second is not None
        assert first.header == {"type": "image", "link": "https://cdn.example.com/b.png"}
        assert second.header is not None and second.header["type"] == "image"
        assert second.header["id"].isdigit()  # Meta's media id, uploaded once


async def test_save_as_draft_then_start_it_from_its_page(
    signed_in: SignedIn,
    team: Team,
    factory: Factory,
    app: FastAPI,
    promo: Template,
    engine: CampaignEngine,
) -> None:
    await factory.contact(team.a, firstname="Ann")
    admin = await signed_in("admin")
    r = await admin.post(LIST, form(promo, draft="1"))
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = soup(await admin.get(url))
    assert "saved as a draft" in page.get_text()
    assert page.select_one("[data-campaign-state]").get_text() == "Draft"
    assert texts(page, "#campaign-progress button") == ["Start now", "Cancel campaign"]
    await engine.drain()  # a draft is never started by the engine
    async with app.state.sessionmaker() as s:
        campaign = await s.get(Campaign, int(url.rsplit("/", 1)[1]))
        assert campaign is not None and campaign.state == "draft"
    r = await admin.post(f"{url}/start")
    assert "Campaign started." in (await admin.get(r.headers["location"])).text
    await engine.drain()
    page = soup(await admin.get(url))
    assert page.select_one("[data-campaign-state]").get_text() == "Completed"
    assert page.select_one("[data-progress]").get_text() == "100 %"


async def test_a_cancelled_campaign_shows_the_share_sent_not_100_percent(
    signed_in: SignedIn, team: Team, factory: Factory, app: FastAPI, promo: Template
) -> None:
    for i in range(4):
        await factory.contact(team.a, firstname=f"P{i}")
    admin = await signed_in("admin")
    r = await admin.post(LIST, form(promo))
    url = r.headers["location"]
    campaign_id = int(url.rsplit("/", 1)[1])
    async with app.state.sessionmaker() as s:  # started, one recipient sent, then cancelled
        campaign = await s.get(Campaign, campaign_id)
        assert campaign is not None and await start(s, campaign, utcnow())
        first = await s.scalar(
            select(CampaignRecipient.id)
            .where(CampaignRecipient.campaign_id == campaign_id)
            .order_by(CampaignRecipient.id)
        )
        await s.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.id == first)
            .values(state="sent", sent_at=utcnow(), wamid="wamid.1")
        )
        await s.commit()
    await admin.post(f"{url}/pause")
    page = soup(await admin.get(url))
    assert page.select_one("[data-progress]").get_text() == "25 %"
    assert page.select_one("[data-progress-note]").get_text() == (
        "Paused: 3 recipients wait until it is resumed."
    )
    await admin.post(f"{url}/cancel")
    page = soup(await admin.get(url))
    assert page.select_one("[data-progress]").get_text() == "25 %"
    assert page.select_one("progress")["value"] == "1"
    note = page.select_one("[data-progress-note]").get_text()
    assert note.startswith("Cancelled at ") and note.endswith(
        ": 3 of the 4 recipients were never sent."
    )
    listing = soup(await admin.get(LIST))
    assert "Cancelled 25 % done" in listing.select_one("tbody tr").get_text(" ", strip=True)


async def test_a_tampered_csv_check_only_changes_the_summary_never_a_500(
    signed_in: SignedIn, team: Team, factory: Factory, promo: Template
) -> None:
    status = await factory.status(team.a)
    source = await factory.source(team.a)
    admin = await signed_in("admin")
    for check in (
        '{"columns": [], "errors": [1, {"line": "x"}], "rows": "many"}',
        "[1]",
        '{"columns": ["a"], "sample": {"phone": 5, "values": {"name": 7}}}',
        "{",
    ):
        r = await admin.post(
            PREVIEW,
            csv_form(promo, status.id, source.id, csv_check=check),
            htmx=True,
            headers={"HX-Target": "campaign-summary"},
        )
        assert r.status_code == 200, check
