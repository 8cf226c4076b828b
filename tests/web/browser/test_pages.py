"""Every main page, as a person with a screen reader or a phone meets it: axe-core finds no
serious or critical problem, nothing scrolls sideways at phone width; and the README's
screenshot of the contacts page, with realistic demo contacts.

The screenshots are written to ``var/test-artifacts/browser/screenshots/``; with
``XOBITO_UPDATE_SCREENSHOTS=1`` also to ``docs/screenshots/`` (commit them).
"""

from __future__ import annotations

import asyncio
import io
import os
import struct
from pathlib import Path

from fastapi import FastAPI
from playwright.async_api import Page

from tests.factories import PASSWORD, Factory, Tenant
from tests.web.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    ROOT,
    Contexts,
    axe_violations,
    expect,
    sign_in,
)
from tests.web.conftest import Team
from tests.web.routes import web_routes
from xobito.campaign.service import CampaignService
from xobito.contact.uploads import ImportService
from xobito.models import Template
from xobito.template.schemas import from_meta
from xobito.testing.meta_templates import make_template, sample_templates

DOCS = ROOT / "docs" / "screenshots"
SHOTS = ARTIFACTS / "screenshots"
WIDER_THAN_PHONE = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .slice(0, 10)
"""
# Workspace routes without a record in their path that are not pages: a download, the live
# event stream (endless), fragments that pages load into themselves.
NOT_PAGES = ("web.contacts.export", "web.events", "web.inbox.list")

PEOPLE = (
    ("Maria", "García", "+34 612 345 678", "maria.garcia@example.com", "Café Lumen", "Customer",
     "Website", "VIP, Newsletter"),
    ("Kwame", "Mensah", "+233 24 123 4567", "kwame@mensah-textiles.example", "Mensah Textiles",
     "Qualified", "Trade fair", "VIP"),
    ("Aiko", "Tanaka", "+81 90 1234 5678", "aiko.tanaka@example.jp", "Tanaka Design",
     "New lead", "Referral", "Newsletter"),
    ("Liam", "O'Connor", "+353 87 123 4567", "liam@oconnor-bikes.example", "O'Connor Bikes",
     "Customer", "Website", ""),
    ("Priya", "Sharma", "+91 98765 43210", "priya@sharmafoods.example", "Sharma Foods",
     "Qualified", "Website", "VIP"),
    ("Lucas", "Silva", "+55 11 91234 5678", "lucas.silva@example.com.br", "", "New lead",
     "Trade fair", ""),
    ("Emma", "Schmidt", "+49 151 23456789", "emma.schmidt@example.de", "Schmidt & Co",
     "Customer", "Referral", "Newsletter"),
    ("Noah", "Williams", "+1 415 555 2671", "noah@williams.example", "", "New lead", "Website",
     ""),
)  # fmt: skip


async def demo_workspace(factory: Factory, tenant: Tenant, app: FastAPI) -> dict[str, int]:
    """Statuses, sources, groups, contacts and templates as a small business would have."""
    statuses = {
        name: (await factory.status(tenant, name, color=color, isdefault=name == "New lead")).id
        for name, color in (("New lead", "#3B82F6"), ("Qualified", "#F59E0B"),
                            ("Customer", "#22C55E"))
    }  # fmt: skip
    sources = {
        n: (await factory.source(tenant, n)).id for n in ("Website", "Trade fair", "Referral")
    }
    ids: dict[str, int] = {}
    for first, last, phone, email, company, status, source, groups in PEOPLE:
        record = await factory.contact(
            tenant,
            firstname=first,
            lastname=last,
            phone=phone,
            email=email,
            company=company or None,
            status_id=statuses[status],
            source_id=sources[source],
            groups=groups or None,
            type="customer" if status == "Customer" else "lead",
        )
        ids[first] = record["id"]
    async with app.state.sessionmaker() as s:
        for meta in sample_templates():
            row = Template(workspace_id=tenant.workspace.id, **from_meta(meta))
            s.add(row)
            await s.flush()
            ids[meta["name"]] = row.id
        imp = await ImportService(s, tenant.info).upload(
            "customers.csv",
            io.BytesIO(b"First name,Phone,Email\nZoe,+14155550199,zoe@example.com\n"),
            None,
        )
        ids["import"] = imp.id
        s.add(Template(workspace_id=tenant.workspace.id,
                       **from_meta(make_template("spring_sale", body="Hi {{1}}, {{2}} off."))))
        await s.flush()
        campaign = await CampaignService(s, tenant.info).create({
            "name": "Spring sale", "template_name": "spring_sale", "template_language": "en_US",
            "variables": {"field_1": {"type": "contact", "field": "firstname", "fallback": "there"},
                          "field_2": "20%"},
            "audience": {"all": True}, "scheduled_at": "2099-03-01T09:00",
            "timezone": "Europe/Madrid",
        })
        ids["campaign"] = campaign.id
        ids["status"] = statuses["Qualified"]
        await s.commit()
    return ids


async def sign_in_anywhere(page: Page, email: str) -> None:
    """Sign in at any width (on a phone the sidebar, and its Sign out, is folded away)."""
    await page.goto("/app/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Contacts", exact=True)).to_be_visible()


def png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


async def test_the_contacts_screenshot_for_the_readme(
    people: Contexts, team: Team, factory: Factory, app: FastAPI
) -> None:
    await demo_workspace(factory, team.a, app)
    SHOTS.mkdir(parents=True, exist_ok=True)
    update = os.environ.get("XOBITO_UPDATE_SCREENSHOTS") == "1"
    for name, viewport in (("contacts", DESKTOP), ("contacts-phone", PHONE)):
        page = await people.new(viewport=viewport)
        await sign_in_anywhere(page, team.owner.email)
        await expect(page.get_by_role("link", name="Maria García")).to_be_visible()
        await expect(page.locator("#contacts-results tbody tr")).to_have_count(8)
        await page.evaluate("document.fonts.ready")
        shot = SHOTS / f"{name}.png"
        await page.screenshot(path=str(shot))
        if update:
            DOCS.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread((DOCS / shot.name).write_bytes, shot.read_bytes())
        committed = DOCS / shot.name
        assert committed.exists(), f"{committed} is missing: run with XOBITO_UPDATE_SCREENSHOTS=1"
        assert png_size(committed) == (viewport["width"], viewport["height"])


async def test_main_pages_have_no_serious_accessibility_problems_and_fit_a_phone(
    people: Contexts, team: Team, factory: Factory, app: FastAPI
) -> None:
    ids = await demo_workspace(factory, team.a, app)
    # Every workspace page whose path names no record (pages added later are checked too),
    # and the record pages.
    paths = [
        route.path.replace("{subdomain}", "acme")
        for route in web_routes(app)
        if "GET" in route.methods
        and route.path.startswith("/{subdomain}/")
        and route.path.count("{") == 1
        and route.name not in NOT_PAGES
    ]
    paths += [
        f"/acme/contacts/{ids['Maria']}",
        f"/acme/statuses/{ids['status']}",
        f"/acme/templates/{ids['order_update']}",
        f"/acme/contacts/import/{ids['import']}",
        f"/acme/campaigns/{ids['campaign']}",
        "/account",
    ]
    desk = await people.new(bypass_csp=True)
    phone = await people.new(viewport=PHONE)
    await desk.goto("/app/login")
    found = {"/login": await axe_violations(desk)}
    for page in (desk, phone):
        await sign_in_anywhere(page, team.owner.email)
    wide: dict[str, list[str]] = {}
    for path in paths:
        probe = await desk.request.get("/app" + path, max_redirects=0)
        assert "<html" in await probe.text(), f"{path} is not a page: add it to NOT_PAGES"
        await desk.goto("/app" + path)
        await expect(desk.locator("#main h1")).to_be_visible()
        violations = await axe_violations(desk)
        if violations:
            found[path] = violations
        await phone.goto("/app" + path)
        await expect(phone.locator("#main h1")).to_be_visible()
        if await phone.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
            wide[path] = await phone.evaluate(WIDER_THAN_PHONE)
    assert {p: v for p, v in found.items() if v} == {}
    assert wide == {}
    assert len(paths) >= 12


async def test_keyboard_reaches_the_import_form(page: Page, team: Team) -> None:
    await sign_in(page, team.owner.email)
    await page.goto("/app/acme/contacts/import")
    await page.get_by_label("CSV file").focus()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Upload and map columns")).to_be_focused()
