"""All SQL about users, memberships, sessions, invitations and password resets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.repository import ScopedRepository
from xobito.models import Invitation, Membership, PasswordReset, User, UserSession, Workspace


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_email(self, email: str) -> User | None:
        stmt = select(User).where(User.email == email.strip().lower())
        user: User | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return user

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of(self, user_id: int, workspace_id: int) -> Membership | None:
        stmt = select(Membership).where(
            Membership.user_id == user_id, Membership.workspace_id == workspace_id
        )
        found: Membership | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def workspaces_of(self, user_id: int) -> Sequence[tuple[Workspace, str]]:
        """The user's workspaces and role in each, by workspace name."""
        stmt = (
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Workspace.name, Workspace.id)
        )
        return [(ws, role) for ws, role in (await self.session.execute(stmt)).all()]

    async def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        return membership


class MemberRepository(ScopedRepository[Membership]):
    """One workspace's memberships, with their users."""

    model = Membership

    async def with_users(
        self, page: int, per_page: int
    ) -> tuple[list[tuple[Membership, User]], int]:
        stmt = (
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(self.scope())
            .order_by(User.name, User.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        rows = [(m, u) for m, u in (await self.session.execute(stmt)).all()]
        return rows, await self.count()

    async def count_role(self, role: str) -> int:
        return await self.count(Membership.role == role)

    async def by_user_id(self, user_id: int) -> Membership | None:
        stmt = self.select().where(Membership.user_id == user_id)
        found: Membership | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, token_hash: str) -> tuple[UserSession, User] | None:
        stmt = (
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash)
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row is not None else None

    async def add(self, record: UserSession) -> UserSession:
        self.session.add(record)
        await self.session.flush()
        return record

    async def touch(self, session_id: int, when: datetime) -> None:
        await self.session.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=when)
        )

    async def remove(self, session_id: int) -> None:
        await self.session.execute(delete(UserSession).where(UserSession.id == session_id))

    async def remove_for_user(self, user_id: int, keep_id: int | None = None) -> int:
        stmt = delete(UserSession).where(UserSession.user_id == user_id)
        if keep_id is not None:
            stmt = stmt.where(UserSession.id != keep_id)
        result: Any = await self.session.execute(stmt)
        return int(result.rowcount or 0)

    async def purge_expired(self, now: datetime, idle_before: datetime) -> int:
        stmt = delete(UserSession).where(
            (UserSession.expires_at <= now) | (UserSession.last_seen_at <= idle_before)
        )
        result: Any = await self.session.execute(stmt)
        return int(result.rowcount or 0)


class InvitationRepository(ScopedRepository[Invitation]):
    model = Invitation

    async def pending(self, now: datetime) -> Sequence[Invitation]:
        stmt = (
            self.select()
            .where(
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        )
        found: Sequence[Invitation] = (await self.session.execute(stmt)).scalars().all()
        return found


async def invitation_by_hash(session: AsyncSession, token_hash: str) -> Invitation | None:
    """Unscoped: the link itself names the workspace."""
    stmt = select(Invitation).where(Invitation.token_hash == token_hash)
    found: Invitation | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


class PasswordResetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, token_hash: str) -> PasswordReset | None:
        stmt = select(PasswordReset).where(PasswordReset.token_hash == token_hash)
        found: PasswordReset | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return found

    async def add(self, reset: PasswordReset) -> PasswordReset:
        self.session.add(reset)
        await self.session.flush()
        return reset

    async def expire_for_user(self, user_id: int, when: datetime) -> None:
        """Earlier links stop working when a new one is made or a password is set."""
        await self.session.execute(
            update(PasswordReset)
            .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
            .values(used_at=when)
        )


async def member_count(session: AsyncSession, user_id: int) -> int:
    stmt = select(func.count()).select_from(Membership).where(Membership.user_id == user_id)
    return int((await session.execute(stmt)).scalar_one())
