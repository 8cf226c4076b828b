"""Settings → Team: members and roles, invitation links (shown once), removal, forced password
resets; the rules that keep a workspace governable; owner and admin only; tenancy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory
from tests.web.conftest import MakeClient, Team, WebClient, field, field_errors, main_text, soup
from xobito.models import Invitation, Membership, UserSession

SignedIn = Any
PAGE = "/app/acme/settings/team"


async def membership_id(session: AsyncSession, user_id: int, workspace_id: int) -> int:
    await session.rollback()
    found = await session.scalar(
        select(Membership.id).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
    )
    assert found is not None
    return int(found)


async def test_the_team_is_listed_with_roles(signed_in: SignedIn, team: Team) -> None:
    admin: WebClient = await signed_in("admin")
    page = soup(await admin.get(PAGE))
    text = main_text(page)
    for name in ("Olivia Owner", "Adam Admin", "Agnes Agent"):
        assert name in text
    assert "Gina Globex" not in text
    # An admin may not touch the owner, nor give the owner role.
    assert page.find("select", id=lambda v: bool(v and v.startswith("role-"))) is not None
    assert field(page, "Role of Agnes Agent").find("option", value="owner") is None
    assert page.find(attrs={"aria-label": "Remove Olivia Owner"}) is None
    assert page.find(attrs={"aria-label": "Remove Agnes Agent"}) is not None


async def test_invite_an_agent_who_joins_through_the_link(
    signed_in: SignedIn, team: Team, browser: MakeClient, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    r = await owner.post(f"{PAGE}/invitations", {"email": "New@Example.com", "role": "agent"})
    assert r.status_code == 201
    page = soup(r)
    url = str(field(page, "Invitation link").get("value"))
    assert "/app/invite/" in url and "shown only this once" in main_text(page)
    listed = await owner.get(PAGE)
    assert url not in listed.text and "new@example.com" in main_text(soup(listed))

    newcomer = await browser()
    path = url[url.index("/app/invite/") :]
    await newcomer.get(path)
    r = await newcomer.post(
        path,
        {
            "name": "Nia New",
            "password": "a long password",
            "password_confirmation": "a long password",
        },
    )
    assert r.status_code == 303
    assert (await newcomer.get("/app/acme/contacts")).status_code == 200
    r = await newcomer.get("/app/acme/settings/team")
    assert r.status_code == 403
    assert "This page needs the admin role or higher." in r.text
    assert "Pending invitations" in (await owner.get(PAGE)).text
    assert "Nia New" in main_text(soup(await owner.get(PAGE)))


async def test_invitation_messages_and_rules(signed_in: SignedIn, team: Team) -> None:
    admin: WebClient = await signed_in("admin")
    r = await admin.post(f"{PAGE}/invitations", {"email": "nope", "role": "agent"})
    assert r.status_code == 422
    assert field_errors(soup(r), "Email") == ["The email must be a valid email address."]
    r = await admin.post(f"{PAGE}/invitations", {"email": team.agent.email, "role": "agent"})
    assert field_errors(soup(r), "Email") == [
        "This email already belongs to a member of this workspace."
    ]
    r = await admin.post(f"{PAGE}/invitations", {"email": "boss@example.com", "role": "owner"})
    assert r.status_code == 403
    assert "Inviting an owner needs the owner role." in r.text


async def test_revoke_an_invitation(signed_in: SignedIn, session: AsyncSession) -> None:
    owner: WebClient = await signed_in("owner")
    await owner.post(f"{PAGE}/invitations", {"email": "x@example.com", "role": "admin"})
    await session.rollback()
    invitation = (await session.execute(select(Invitation))).scalar_one()
    r = await owner.post(f"{PAGE}/invitations/{invitation.id}/revoke")
    assert r.status_code == 303
    page = await owner.get(PAGE)
    assert "The invitation of x@example.com is revoked." in page.text
    assert "None: every invitation" in page.text


async def test_change_role_remove_and_the_last_owner(
    signed_in: SignedIn, team: Team, session: AsyncSession
) -> None:
    owner: WebClient = await signed_in("owner")
    agent_m = await membership_id(session, team.agent.id, team.a.workspace.id)
    r = await owner.post(f"{PAGE}/{agent_m}/role", {"role": "admin"})
    assert r.status_code == 303
    assert "Agnes Agent is now admin." in (await owner.get(PAGE)).text
    await session.rollback()
    assert (await session.get(Membership, agent_m, populate_existing=True)).role == "admin"  # type: ignore[union-attr]

    admin: WebClient = await signed_in("admin")
    owner_m = await membership_id(session, team.owner.id, team.a.workspace.id)
    r = await admin.post(f"{PAGE}/{owner_m}/role", {"role": "agent"})
    assert r.status_code == 403
    assert "Only an owner can change an owner or give the owner role." in r.text
    r = await owner.post(f"{PAGE}/{owner_m}/role", {"role": "admin"})
    assert r.status_code == 303
    assert "A workspace needs at least one owner." in (await owner.get(PAGE)).text

    r = await admin.post(f"{PAGE}/{agent_m}/remove")
    assert r.status_code == 303
    assert "Agnes Agent was removed from the workspace." in (await admin.get(PAGE)).text
    await session.rollback()
    assert await session.get(Membership, agent_m) is None


async def test_forced_reset_shows_a_one_time_link_and_ends_sessions(
    signed_in: SignedIn, team: Team, session: AsyncSession, browser: MakeClient
) -> None:
    agent: WebClient = await signed_in("agent")
    admin: WebClient = await signed_in("admin")
    agent_m = await membership_id(session, team.agent.id, team.a.workspace.id)
    r = await admin.post(f"{PAGE}/{agent_m}/reset")
    assert r.status_code == 200
    url = str(field(soup(r), "Password reset link").get("value"))
    assert "/app/reset/" in url
    gone = await agent.get("/app/acme/contacts")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/app/login")
    await session.rollback()
    left = await session.scalar(select(UserSession.id).where(UserSession.user_id == team.agent.id))
    assert left is None
    me = await membership_id(session, team.admin.id, team.a.workspace.id)
    r = await admin.post(f"{PAGE}/{me}/reset")
    assert r.status_code == 403
    assert "Change your own password on your account page." in r.text


async def test_agents_get_the_403_page_and_other_workspaces_404(
    signed_in: SignedIn, team: Team, session: AsyncSession, factory: Factory
) -> None:
    agent: WebClient = await signed_in("agent")
    owner_m = await membership_id(session, team.owner.id, team.a.workspace.id)
    for r in (
        await agent.get(PAGE),
        await agent.post(f"{PAGE}/invitations", {"email": "x@example.com", "role": "agent"}),
        await agent.post(f"{PAGE}/{owner_m}/role", {"role": "agent"}),
        await agent.post(f"{PAGE}/{owner_m}/remove"),
        await agent.post(f"{PAGE}/{owner_m}/reset"),
    ):
        assert r.status_code == 403
        assert "This page needs the admin role or higher." in r.text
    owner: WebClient = await signed_in("owner")
    theirs = await membership_id(session, team.b_owner.id, team.b.workspace.id)
    for r in (
        await owner.post(f"{PAGE}/{theirs}/role", {"role": "agent"}),
        await owner.post(f"{PAGE}/{theirs}/remove"),
        await owner.post(f"{PAGE}/{theirs}/reset"),
        await owner.get("/app/globex/settings/team"),
    ):
        assert r.status_code == 404
    await session.rollback()
    assert (await session.get(Membership, theirs)) is not None
