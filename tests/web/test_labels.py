"""The statuses, sources and groups pages: lists, create, edit, delete with the API's
messages beside the fields, the one-default-status rule, roles and tenancy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup, texts
from xobito.models import Contact, Group, Source, Status

SignedIn = Any


def rows(response: Any) -> list[str]:
    return texts(soup(response), "tbody td:first-child")


async def test_statuses_list_shows_default_colour_and_usage(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    won = await factory.status(team.a, "Won", color="#22C55E", isdefault=True)
    await factory.status(team.a, "Lost")
    await factory.status(team.b, "Theirs")
    await factory.contact(team.a, status_id=won.id)
    await factory.contact(team.a, status_id=won.id)
    client: WebClient = await signed_in("agent")
    r = await client.get("/app/acme/statuses")
    assert r.status_code == 200
    assert rows(r) == ["Won Default", "Lost"]
    page = soup(r)
    assert "Theirs" not in r.text
    assert page.find("circle", attrs={"fill": "#22C55E"}) is not None
    counts = texts(page, "tbody td:nth-of-type(2) a")
    assert counts == ["2 contacts", "0 contacts"]
    link = page.select_one("tbody td:nth-of-type(2) a")
    assert link is not None and link["href"] == f"/app/acme/contacts?status_id={won.id}"
    # Agents see the list but not the actions.
    assert "New status" not in r.text and "Delete" not in main_text(page)


async def test_create_status_with_the_apis_messages_beside_the_fields(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    await factory.status(team.a, "Qualified")
    client: WebClient = await signed_in("admin")
    form = soup(await client.get("/app/acme/statuses/new"))
    assert field(form, "Name").get("name") == "name"
    assert field(form, "Colour").get("name") == "color"
    r = await client.post("/app/acme/statuses", {"name": "ab", "color": "green"})
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "Name") == ["The name must be at least 3 characters."]
    assert field_errors(page, "Colour") == ["The color format is invalid."]
    assert field(page, "Colour").get("value") == "green"
    r = await client.post("/app/acme/statuses", {"name": "x" * 256}, htmx=True)
    assert r.status_code == 422 and r.text.lstrip().startswith("<form")
    assert field_errors(soup(r), "Name") == ["The name may not be greater than 255 characters."]
    r = await client.post("/app/acme/statuses", {"name": "Qualified"})
    assert field_errors(soup(r), "Name") == ["The name has already been taken."]

    r = await client.post(
        "/app/acme/statuses", {"name": "Hot lead", "color": "#FF0000", "isdefault": ["0", "1"]}
    )
    assert (r.status_code, r.headers["location"]) == (303, "/app/acme/statuses")
    assert "Status Hot lead created." in (await client.get("/app/acme/statuses")).text
    await session.rollback()
    hot = (await session.execute(select(Status).where(Status.name == "Hot lead"))).scalar_one()
    assert (hot.color, hot.isdefault, hot.workspace_id) == ("#FF0000", True, team.a.workspace.id)


async def test_one_default_status(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    first = await factory.status(team.a, "First", isdefault=True)
    second = await factory.status(team.a, "Second")
    client: WebClient = await signed_in("owner")
    edit = soup(await client.get(f"/app/acme/statuses/{second.id}"))
    assert field(edit, "Name").get("value") == "Second"
    assert field(edit, "Default status for new contacts").get("checked") is None
    r = await client.post(
        f"/app/acme/statuses/{second.id}", {"name": "Second", "isdefault": ["0", "1"]}
    )
    assert r.status_code == 303
    assert rows(await client.get("/app/acme/statuses")) == ["First", "Second Default"]
    await session.rollback()
    defaults = (await session.execute(select(Status.id).where(Status.isdefault))).scalars().all()
    assert defaults == [second.id]
    # Unticking saves the status without a default.
    r = await client.post(f"/app/acme/statuses/{second.id}", {"name": "Second", "isdefault": "0"})
    assert r.status_code == 303
    await session.rollback()
    assert (await session.execute(select(Status.id).where(Status.isdefault))).first() is None
    assert first.id


async def test_sources_and_groups_create_rename_delete(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    client: WebClient = await signed_in("admin")
    for plural, thing, model in (("sources", "Source", Source), ("groups", "Group", Group)):
        r = await client.post(f"/app/acme/{plural}", {"name": ""})
        assert r.status_code == 422
        assert field_errors(soup(r), "Name") == ["The name field is required."]
        r = await client.post(f"/app/acme/{plural}", {"name": "Trade fair"})
        assert r.status_code == 303
        await session.rollback()
        obj = (await session.execute(select(model))).scalar_one()
        r = await client.post(f"/app/acme/{plural}", {"name": "Trade fair"})
        assert field_errors(soup(r), "Name") == ["The name has already been taken."]
        r = await client.post(f"/app/acme/{plural}/{obj.id}", {"name": "Fair 2026"})
        assert r.status_code == 303
        page = await client.get(f"/app/acme/{plural}")
        assert f"{thing} Fair 2026 saved." in page.text
        assert rows(page) == ["Fair 2026"]
        r = await client.post(f"/app/acme/{plural}/{obj.id}/delete")
        assert r.status_code == 303
        page = await client.get(f"/app/acme/{plural}")
        assert f"{thing} Fair 2026 deleted." in page.text
        assert f"No {plural} yet" in main_text(soup(page))
        await session.rollback()
        assert (await session.execute(select(model))).first() is None


async def test_deleting_a_used_source_clears_it_from_contacts(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    fair = await factory.source(team.a, "Fair")
    contact = await factory.contact(team.a, source_id=fair.id)
    client: WebClient = await signed_in("admin")
    page = soup(await client.get("/app/acme/sources"))
    form = page.find("form", attrs={"action": f"/app/acme/sources/{fair.id}/delete"})
    assert form is not None and "1 contact will lose it." in str(form.get("hx-confirm"))
    assert (await client.post(f"/app/acme/sources/{fair.id}/delete")).status_code == 303
    await session.rollback()
    stored = await session.get(Contact, contact["id"])
    assert stored is not None and stored.source_id is None


async def test_agents_cannot_change_labels(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    status = await factory.status(team.a, "Keep")
    client: WebClient = await signed_in("agent")
    for r in (
        await client.get("/app/acme/statuses/new"),
        await client.post("/app/acme/statuses", {"name": "Nope"}),
        await client.get(f"/app/acme/statuses/{status.id}"),
        await client.post(f"/app/acme/statuses/{status.id}", {"name": "Changed"}),
        await client.post(f"/app/acme/statuses/{status.id}/delete"),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text
    await session.rollback()
    assert [s.name for s in (await session.execute(select(Status))).scalars()] == ["Keep"]


async def test_another_workspaces_label_is_not_found(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    theirs = await factory.group(team.b, "Theirs")
    client: WebClient = await signed_in("owner")
    for r in (
        await client.get(f"/app/acme/groups/{theirs.id}"),
        await client.post(f"/app/acme/groups/{theirs.id}", {"name": "Hacked"}),
        await client.post(f"/app/acme/groups/{theirs.id}/delete"),
        await client.get("/app/globex/groups"),
    ):
        assert r.status_code == 404
    await session.rollback()
    assert (await session.get(Group, theirs.id)).name == "Theirs"  # type: ignore[union-attr]


async def test_list_pages_and_htmx_fragment(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    for n in range(30):
        await factory.group(team.a, f"G{n:02d}")
    client: WebClient = await signed_in("agent")
    r = await client.get("/app/acme/groups?page=2")
    assert rows(r) == [f"G{n:02d}" for n in range(25, 30)]
    fragment = await client.get(
        "/app/acme/groups?page=2", htmx=True, headers={"HX-Target": "labels-results"}
    )
    assert "<html" not in fragment.text and "G29" in fragment.text
    r = await client.get("/app/acme/groups?page=99")
    assert rows(r) == [f"G{n:02d}" for n in range(25, 30)]
