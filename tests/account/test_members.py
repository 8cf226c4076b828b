"""Accounts: passwords, roles and their rules, invitations, forced resets (services)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import PASSWORD, Factory
from xobito.account.invitations import INVALID, InvitationService
from xobito.account.members import ELSEWHERE, LAST_OWNER, OWNERS_ONLY, MemberService
from xobito.account.passwords import hash_password, verify_password
from xobito.account.resets import INVALID as RESET_INVALID
from xobito.account.resets import PasswordResetService
from xobito.account.service import UserService
from xobito.account.sessions import SessionService
from xobito.kit.errors import Forbidden, NotFound, ValidationFailed
from xobito.kit.time import utcnow
from xobito.models import Invitation, Membership, User, UserSession


async def test_passwords_are_argon2id_and_checked(app: FastAPI) -> None:
    profile = app.state.settings.password_hashing
    stored = await hash_password("s3cret-enough", profile)
    assert stored.startswith("$argon2id$")
    assert await verify_password(stored, "s3cret-enough", profile)
    assert not await verify_password(stored, "s3cret-enougH", profile)
    assert not await verify_password(None, "anything", profile)  # an unknown account
    assert not await verify_password("not a hash", "anything", profile)


async def test_create_user_rules_and_generated_password(app: FastAPI, factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    async with app.state.sessionmaker() as s:
        service = UserService(s, app.state.settings)
        with pytest.raises(ValidationFailed) as exc:
            await service.create(
                t.workspace, {"email": "nope", "role": "boss", "password": "short"}
            )
        assert exc.value.errors == {
            "email": ["The email must be a valid email address."],
            "role": ["The selected role is invalid."],
            "password": ["The password must be at least 8 characters."],
        }
        made = await service.create(t.workspace, {"email": " Ada@Example.COM ", "role": "owner"})
        assert made.user.email == "ada@example.com" and made.user.name == "ada"
        assert made.generated_password and len(made.generated_password) >= 16
        assert await service.authenticate("ADA@example.com", made.generated_password)
        assert await service.authenticate("ada@example.com", "wrong") is None
        with pytest.raises(ValidationFailed) as exc:
            await service.create(t.workspace, {"email": "ada@example.com", "role": "agent"})
        assert exc.value.errors == {"email": ["The email has already been taken."]}
        # Another workspace: the same account joins it and keeps its password.
        again = await service.create(other.workspace, {"email": "ada@example.com", "role": "agent"})
        assert again.existing_account and again.generated_password is None
        assert again.user.id == made.user.id


async def member_ids(session: AsyncSession, workspace_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(User.email, Membership.id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
    )
    return {email: mid for email, mid in rows.all()}


async def test_role_rules_keep_an_owner_and_owners_only_change_owners(
    app: FastAPI, factory: Factory
) -> None:
    t = await factory.tenant()
    owner = await factory.user(t.workspace, "owner", "o@example.com")
    await factory.user(t.workspace, "admin", "a@example.com")
    await factory.user(t.workspace, "agent", "g@example.com")
    async with app.state.sessionmaker() as s:
        ids = await member_ids(s, t.workspace.id)
        members = MemberService(s, t.workspace.id, app.state.settings)
        with pytest.raises(Forbidden, match=OWNERS_ONLY):
            await members.change_role("admin", ids["o@example.com"], {"role": "agent"})
        with pytest.raises(Forbidden, match=OWNERS_ONLY):
            await members.change_role("admin", ids["g@example.com"], {"role": "owner"})
        with pytest.raises(Forbidden):
            await members.change_role("agent", ids["g@example.com"], {"role": "admin"})
        with pytest.raises(ValidationFailed) as exc:
            await members.change_role("owner", ids["o@example.com"], {"role": "admin"})
        assert exc.value.errors == {"role": [LAST_OWNER]}
        with pytest.raises(ValidationFailed):
            await members.remove("owner", ids["o@example.com"])
        promoted = await members.change_role("admin", ids["g@example.com"], {"role": "admin"})
        assert promoted.role == "admin"
        await members.change_role("owner", ids["a@example.com"], {"role": "owner"})
        demoted = await members.change_role("owner", ids["o@example.com"], {"role": "admin"})
        assert demoted.role == "admin"  # another owner exists now
        removed = await members.remove("owner", ids["g@example.com"])
        assert removed.email == "g@example.com"
        with pytest.raises(NotFound):
            await members.get(ids["g@example.com"])
        assert owner.id


async def test_members_of_another_workspace_are_not_found(app: FastAPI, factory: Factory) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    await factory.user(b.workspace, "agent", "theirs@example.com")
    async with app.state.sessionmaker() as s:
        theirs = (await member_ids(s, b.workspace.id))["theirs@example.com"]
        members = MemberService(s, a.workspace.id, app.state.settings)
        for call in (
            members.get(theirs),
            members.change_role("owner", theirs, {"role": "admin"}),
            members.remove("owner", theirs),
            members.force_reset("owner", None, theirs),
        ):
            with pytest.raises(NotFound):
                await call


async def test_forced_reset_voids_the_password_ends_sessions_and_the_link_sets_one(
    app: FastAPI, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    admin = await factory.user(t.workspace, "admin", "a@example.com")
    agent = await factory.user(t.workspace, "agent", "g@example.com")
    settings = app.state.settings
    async with app.state.sessionmaker() as s:
        await SessionService(s, settings).start(agent, None, None)
        ids = await member_ids(s, t.workspace.id)
        user, secret = await MemberService(s, t.workspace.id, settings).force_reset(
            "admin", admin.id, ids["g@example.com"]
        )
        await s.commit()
    assert user.id == agent.id
    await session.rollback()
    assert (await session.get(User, agent.id)).password_hash is None  # type: ignore[union-attr]
    assert (await session.execute(select(UserSession))).scalars().all() == []
    async with app.state.sessionmaker() as s:
        service = UserService(s, settings)
        assert await service.authenticate("g@example.com", PASSWORD) is None
        resets = PasswordResetService(s, settings)
        with pytest.raises(ValidationFailed) as exc:
            await resets.complete(
                secret, {"password": "new-password-1", "password_confirmation": "x"}
            )
        assert exc.value.errors == {"password": ["The password confirmation does not match."]}
        await resets.complete(
            secret, {"password": "new-password-1", "password_confirmation": "new-password-1"}
        )
        assert await service.authenticate("g@example.com", "new-password-1")
        with pytest.raises(NotFound, match=RESET_INVALID):
            await resets.find(secret)  # one use
        await s.commit()


async def test_forced_reset_limits(app: FastAPI, factory: Factory) -> None:
    t = await factory.tenant()
    other = await factory.tenant()
    owner = await factory.user(t.workspace, "owner", "o@example.com")
    admin = await factory.user(t.workspace, "admin", "a@example.com")
    await factory.user(t.workspace, "agent", "both@example.com")
    await factory.user(other.workspace, "owner", "both@example.com")
    async with app.state.sessionmaker() as s:
        ids = await member_ids(s, t.workspace.id)
        members = MemberService(s, t.workspace.id, app.state.settings)
        with pytest.raises(Forbidden, match=OWNERS_ONLY):
            await members.force_reset("admin", admin.id, ids["o@example.com"])
        with pytest.raises(Forbidden, match="own password"):
            await members.force_reset("admin", admin.id, ids["a@example.com"])
        # A link would open the other workspace too: not a workspace admin's to make.
        with pytest.raises(Forbidden, match=ELSEWHERE.split(";")[0]):
            await members.force_reset("owner", owner.id, ids["both@example.com"])
        _, secret = await members.force_reset("owner", None, ids["both@example.com"])  # operator
        assert secret


async def test_invitations_create_accept_once_and_expire(
    app: FastAPI, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    admin = await factory.user(t.workspace, "admin", "a@example.com")
    settings = app.state.settings
    async with app.state.sessionmaker() as s:
        invitations = InvitationService(s, settings)
        with pytest.raises(Forbidden, match=r"Inviting an owner needs the owner role\."):
            await invitations.create(
                t.workspace.id,
                {"email": "x@example.com", "role": "owner"},
                actor_role="admin",
                invited_by=admin.id,
            )
        with pytest.raises(ValidationFailed) as exc:
            await invitations.create(
                t.workspace.id,
                {"email": "a@example.com", "role": "agent"},
                actor_role="admin",
                invited_by=admin.id,
            )
        assert exc.value.errors == {
            "email": ["This email already belongs to a member of this workspace."]
        }
        invitation, secret = await invitations.create(
            t.workspace.id,
            {"email": "New@Example.com", "role": "agent"},
            actor_role="admin",
            invited_by=admin.id,
        )
        assert invitation.email == "new@example.com"
        assert invitation.expires_at - utcnow() > timedelta(days=6, hours=23)
        with pytest.raises(ValidationFailed) as exc:
            await invitations.accept_new(secret, {"name": None, "password": "short"})
        assert exc.value.errors == {
            "name": ["The name field is required."],
            "password": [
                "The password must be at least 8 characters.",
                "The password confirmation does not match.",
            ],
        }
        user, workspace = await invitations.accept_new(
            secret,
            {"name": "Nia", "password": "long-enough", "password_confirmation": "long-enough"},
        )
        assert workspace.id == t.workspace.id
        with pytest.raises(NotFound, match=INVALID):
            await invitations.find(secret)
        _, expired = await invitations.create(
            t.workspace.id,
            {"email": "late@example.com", "role": "agent"},
            actor_role="admin",
            invited_by=admin.id,
        )
        await s.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        with pytest.raises(NotFound, match=INVALID):
            await invitations.find(expired)
        await s.commit()
    async with app.state.sessionmaker() as s:
        membership = (
            await s.execute(select(Membership).where(Membership.user_id == user.id))
        ).scalar_one()
        assert membership.role == "agent"


async def test_password_change_checks_the_current_one_and_ends_other_sessions(
    app: FastAPI, factory: Factory, session: AsyncSession
) -> None:
    t = await factory.tenant()
    user = await factory.user(t.workspace, "agent", "g@example.com")
    settings = app.state.settings
    async with app.state.sessionmaker() as s:
        sessions = SessionService(s, settings)
        mine = await sessions.start(user, None, None)
        await sessions.start(user, None, None)  # another browser
        service = UserService(s, settings)
        with pytest.raises(ValidationFailed) as exc:
            await service.change_password(
                user,
                {
                    "current_password": "wrong",
                    "password": "n3w-password",
                    "password_confirmation": "n3w-password",
                },
                mine.record.id,
            )
        assert exc.value.errors == {"current_password": ["The current password is incorrect."]}
        await service.change_password(
            user,
            {
                "current_password": PASSWORD,
                "password": "n3w-password",
                "password_confirmation": "n3w-password",
            },
            mine.record.id,
        )
        await s.commit()
    await session.rollback()
    left = (await session.execute(select(UserSession.id))).scalars().all()
    assert left == [mine.record.id]
