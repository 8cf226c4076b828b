"""The contacts pages: list (search, filters, sort, pages, fragments), create, edit, delete,
bulk actions; the API's rules and messages beside the fields; tenancy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import Team, WebClient, field, field_errors, main_text, soup, texts
from xobito.models import Contact, ContactGroup, Group, WebhookEvent
from xobito.webhook.service import WebhookService

SignedIn = Any  # the ``signed_in`` fixture: await signed_in("owner") -> WebClient


def names(client_response: Any) -> list[str]:
    return texts(soup(client_response), "tbody td:nth-of-type(2) a.cell-main")


async def test_the_list_shows_this_workspace_only(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    await factory.contact(team.a, firstname="Ann", lastname="Lee")
    await factory.contact(team.b, firstname="Bob", lastname="Other")
    owner: WebClient = await signed_in("agent")
    r = await owner.get("/app/acme/contacts")
    assert r.status_code == 200
    assert names(r) == ["Ann Lee"]
    assert "Bob" not in r.text


async def test_search_filters_sort_and_pages_come_from_the_query(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    vip = await factory.status(team.a, "VIP")
    source = await factory.source(team.a, "Fair")
    for n in range(30):
        await factory.contact(
            team.a,
            firstname=f"P{n:02d}",
            status_id=vip.id if n % 3 == 0 else (await factory.status(team.a)).id,
            source_id=source.id,
        )
    await factory.contact(team.a, firstname="Zed", email="zed@example.com", groups="golf")
    client: WebClient = await signed_in("agent")

    first = await client.get("/app/acme/contacts")
    assert len(names(first)) == 25
    assert "1\u201325 of 31" in main_text(soup(first))
    second = await client.get("/app/acme/contacts?page=2")
    assert names(second) == ["P25", "P26", "P27", "P28", "P29", "Zed"]

    r = await client.get("/app/acme/contacts?search=zed%40example")
    assert names(r) == ["Zed"]
    r = await client.get(f"/app/acme/contacts?status_id={vip.id}&sort=-name")
    assert names(r) == [f"P{n:02d}" for n in range(27, -1, -3)]
    group_id = await _group_id(client, "golf")
    r = await client.get(f"/app/acme/contacts?group_id={group_id}")
    assert names(r) == ["Zed"]
    r = await client.get("/app/acme/contacts?opted_out=1")
    assert "No contacts match" in main_text(soup(r))
    # A hand-edited URL never errors: unreadable values are ignored.
    r = await client.get("/app/acme/contacts?page=abc&per_page=7&status_id=x&sort=evil")
    assert r.status_code == 200
    assert len(names(r)) == 25


async def _group_id(client: WebClient, name: str) -> int:
    page = soup(await client.get("/app/acme/contacts"))
    option = next(o for o in page.select("#f-group option") if o.get_text() == name)
    return int(str(option["value"]))


async def test_htmx_gets_the_table_fragment_and_history_restore_the_page(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    await factory.contact(team.a, firstname="Ann")
    client: WebClient = await signed_in("agent")
    fragment = await client.get(
        "/app/acme/contacts?search=Ann", htmx=True, headers={"HX-Target": "contacts-results"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "Ann" in fragment.text
    assert fragment.headers["Vary"] == "HX-Request"
    assert fragment.headers["Cache-Control"] == "no-store"
    restore = await client.get(
        "/app/acme/contacts?search=Ann",
        htmx=True,
        headers={"HX-Target": "contacts-results", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


async def test_owner_creates_a_contact_and_it_behaves_as_through_the_api(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession, app: Any
) -> None:
    status = await factory.status(team.a, "New")
    source = await factory.source(team.a, "Website")
    async with app.state.sessionmaker() as s:
        await WebhookService(s, team.a.workspace.id, app.state.settings).create(
            {"url": "http://127.0.0.1:9/hook", "events": ["contacts.created"]}
        )
        await s.commit()
    client: WebClient = await signed_in("owner")
    form = soup(await client.get("/app/acme/contacts/new"))
    assert field(form, "First name").get("name") == "firstname"
    body = {
        "firstname": "Ada",
        "lastname": "Lovelace",
        "phone": "+1 (415) 555-2671",
        "email": "ada@example.com",
        "type": "customer",
        "status_id": str(status.id),
        "source_id": str(source.id),
        "groups": "vip, newsletter",
        "back": "/app/acme/contacts",
    }
    r = await client.post("/app/acme/contacts", body)
    assert (r.status_code, r.headers["location"]) == (303, "/app/acme/contacts")
    page = await client.get("/app/acme/contacts")
    assert "Contact Ada Lovelace created." in page.text
    assert names(page) == ["Ada Lovelace"]
    await session.rollback()
    contact = (await session.execute(select(Contact))).scalar_one()
    assert (contact.phone, contact.type, contact.workspace_id) == (
        "+14155552671",
        "customer",
        team.a.workspace.id,
    )
    groups = (await session.execute(select(Group.name).order_by(Group.name))).scalars().all()
    assert groups == ["newsletter", "vip"]
    # The same outbound webhook as POST /contacts.
    events = (await session.execute(select(WebhookEvent.topic))).scalars().all()
    assert events == ["contacts.created"]


async def test_validation_messages_are_the_apis_beside_the_fields(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    existing = await factory.contact(team.a, phone="+14155552671")
    client: WebClient = await signed_in("admin")
    r = await client.post(
        "/app/acme/contacts", {"firstname": "", "phone": "+1 415 555 2671", "type": "lead"}
    )
    assert r.status_code == 422
    page = soup(r)
    assert field_errors(page, "First name") == ["The firstname field is required."]
    assert field_errors(page, "Phone") == ["The phone has already been taken."]
    assert field_errors(page, "Status") == ["The status id field is required."]
    assert field_errors(page, "Source") == ["The source id field is required."]
    assert field_errors(page, "Email") == []
    assert field(page, "Phone").get("value") == "+1 415 555 2671"  # kept for correcting
    # Through htmx only the form comes back, to be swapped in place.
    r = await client.post(
        "/app/acme/contacts",
        {"firstname": "X", "phone": "not a phone", "type": "lead", "email": "nope"},
        htmx=True,
    )
    assert r.status_code == 422
    assert r.text.lstrip().startswith("<form")
    page = soup(r)
    assert field_errors(page, "Phone") == ["The phone format is invalid."]
    assert field_errors(page, "Email") == ["The email must be a valid email address."]
    assert existing["id"]


async def test_agents_edit_but_do_not_create_or_delete(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    record = await factory.contact(team.a, firstname="Ann", lastname="Lee")
    client: WebClient = await signed_in("agent")
    page = await client.get("/app/acme/contacts")
    assert "New contact" not in page.text and "Delete selected" not in page.text
    for r in (
        await client.get("/app/acme/contacts/new"),
        await client.post("/app/acme/contacts", {"firstname": "X"}),
        await client.post(f"/app/acme/contacts/{record['id']}/delete"),
        await client.post(
            "/app/acme/contacts/bulk", {"ids[]": [str(record["id"])], "action": "delete"}
        ),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text
    edit = soup(await client.get(f"/app/acme/contacts/{record['id']}"))
    assert field(edit, "First name").get("value") == "Ann"
    r = await client.post(
        f"/app/acme/contacts/{record['id']}",
        {"firstname": "Annie", "lastname": "Lee", "phone": record["phone"], "type": "lead"},
    )
    assert r.status_code == 303
    await session.rollback()
    assert (await session.get(Contact, record["id"])).firstname == "Annie"  # type: ignore[union-attr]
    assert await session.scalar(select(func.count()).select_from(Contact)) == 1


async def test_another_workspaces_contact_is_not_found(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    theirs = await factory.contact(team.b, firstname="Bob")
    client: WebClient = await signed_in("owner")
    for r in (
        await client.get(f"/app/acme/contacts/{theirs['id']}"),
        await client.post(
            f"/app/acme/contacts/{theirs['id']}",
            {"firstname": "Hacked", "lastname": "x", "phone": "+14155550000", "type": "lead"},
        ),
        await client.post(f"/app/acme/contacts/{theirs['id']}/delete"),
        await client.get("/app/globex/contacts"),
    ):
        assert r.status_code == 404
    r = await client.post(
        "/app/acme/contacts/bulk", {"ids[]": [str(theirs["id"])], "action": "delete"}
    )
    assert r.status_code == 303
    await session.rollback()
    assert (await session.get(Contact, theirs["id"])).firstname == "Bob"  # type: ignore[union-attr]


async def test_a_name_with_markup_is_shown_as_text(
    signed_in: SignedIn, team: Team, factory: Factory
) -> None:
    evil = "<script>alert(1)</script>"
    record = await factory.contact(team.a, firstname=evil, company='"><img src=x onerror=alert(1)>')
    client: WebClient = await signed_in("agent")
    for path in ("/app/acme/contacts", f"/app/acme/contacts/{record['id']}"):
        r = await client.get(path)
        assert evil not in r.text and "<img src=x" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert evil in main_text(soup(await client.get("/app/acme/contacts")))


async def test_bulk_add_to_group_and_delete(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    a = await factory.contact(team.a, firstname="A")
    b = await factory.contact(team.a, firstname="B")
    c = await factory.contact(team.a, firstname="C")
    agent: WebClient = await signed_in("agent")
    r = await agent.post(
        "/app/acme/contacts/bulk",
        {"ids[]": [str(a["id"]), str(b["id"])], "action": "add_to_group", "group": "Golf club"},
    )
    assert r.status_code == 303
    assert "Added 2 contacts to Golf club." in (await agent.get("/app/acme/contacts")).text
    await session.rollback()
    members = (
        (
            await session.execute(
                select(ContactGroup.contact_id).join(Group).where(Group.name == "Golf club")
            )
        )
        .scalars()
        .all()
    )
    assert sorted(members) == [a["id"], b["id"]]
    admin: WebClient = await signed_in("admin")
    r = await admin.post(
        "/app/acme/contacts/bulk", {"ids[]": [str(a["id"]), str(c["id"])], "action": "delete"}
    )
    assert r.status_code == 303
    assert "Deleted 2 contacts." in (await admin.get("/app/acme/contacts")).text
    await session.rollback()
    left = (await session.execute(select(Contact.firstname))).scalars().all()
    assert left == ["B"]


async def test_delete_one_contact(
    signed_in: SignedIn, team: Team, factory: Factory, session: AsyncSession
) -> None:
    record = await factory.contact(team.a, firstname="Ann")
    client: WebClient = await signed_in("admin")
    r = await client.post(
        f"/app/acme/contacts/{record['id']}/delete", {"back": "/app/acme/contacts"}
    )
    assert r.status_code == 303
    assert "Contact Ann deleted." in (await client.get("/app/acme/contacts")).text
    await session.rollback()
    assert await session.get(Contact, record["id"]) is None


async def test_the_plan_limit_is_shown_on_the_form(
    signed_in: SignedIn, factory: Factory, browser: Any
) -> None:
    t = await factory.tenant("tiny", max_contacts=1)
    await factory.contact(t)
    user = await factory.user(t.workspace, "owner")
    client: WebClient = await browser()
    await client.sign_in(user.email)
    status = await factory.status(t)
    source = await factory.source(t)
    r = await client.post(
        "/app/tiny/contacts",
        {
            "firstname": "One",
            "lastname": "More",
            "phone": "+14155559999",
            "type": "lead",
            "status_id": str(status.id),
            "source_id": str(source.id),
        },
    )
    assert r.status_code == 403
    assert "Contact limit exceeded for your current plan. Upgrade to add more contacts." in r.text
    assert soup(r).find("form")
