"""A workspace's team: roles, removal and admin-forced password resets, with the rules that
keep a workspace governable (owners only change owners; there is always an owner)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.repository import MemberRepository, UserRepository, member_count
from xobito.account.resets import PasswordResetService
from xobito.account.schemas import RoleChange, rank
from xobito.activity.recorder import note
from xobito.config import Settings
from xobito.kit.errors import Forbidden, NotFound, ValidationFailed
from xobito.kit.validation import require
from xobito.models import Membership, User

NOT_FOUND = "Member not found"
LAST_OWNER = "A workspace needs at least one owner."
OWNERS_ONLY = "Only an owner can change an owner or give the owner role."
ELSEWHERE = (
    "This account also belongs to other workspaces; the operator resets its password "
    "(xobito user reset-password)."
)


class MemberService:
    def __init__(self, session: AsyncSession, workspace_id: int, settings: Settings) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.settings = settings
        self.repo = MemberRepository(session, workspace_id)

    async def page(self, page: int, per_page: int) -> tuple[list[tuple[Membership, User]], int]:
        return await self.repo.with_users(page, per_page)

    async def of_user(self, user_id: int) -> Membership:
        membership = await self.repo.by_user_id(user_id)
        if membership is None:
            raise NotFound(NOT_FOUND)
        return membership

    async def get(self, membership_id: int) -> tuple[Membership, User]:
        membership = await self.repo.get(membership_id)
        user = await UserRepository(self.session).get(membership.user_id) if membership else None
        if membership is None or user is None:
            raise NotFound(NOT_FOUND)
        return membership, user

    def _may_manage(self, actor_role: str, target: Membership, new_role: str | None) -> None:
        owner_involved = target.role == "owner" or new_role == "owner"
        if owner_involved and actor_role != "owner":
            raise Forbidden(OWNERS_ONLY)
        if rank(actor_role) < rank("admin"):
            raise Forbidden("Managing the team needs the admin role.")

    async def _keep_an_owner(self, target: Membership, field: str) -> None:
        if target.role == "owner" and await self.repo.count_role("owner") <= 1:
            raise ValidationFailed({field: [LAST_OWNER]})

    async def change_role(self, actor_role: str, membership_id: int, raw: Any) -> Membership:
        data = require(RoleChange, raw)
        membership, user = await self.get(membership_id)
        self._may_manage(actor_role, membership, data.role)
        if data.role == membership.role:
            return membership
        if data.role != "owner":
            await self._keep_an_owner(membership, "role")
        before = membership.role
        membership.role = data.role
        await self.session.flush()
        note(
            self.workspace_id,
            "member.role_changed",
            f"Changed {user.email} from {before} to {data.role}",
            "user",
            user.id,
        )
        return membership

    async def remove(self, actor_role: str, membership_id: int) -> User:
        membership, user = await self.get(membership_id)
        self._may_manage(actor_role, membership, None)
        await self._keep_an_owner(membership, "member")
        await self.repo.remove(membership)
        note(self.workspace_id, "member.removed", f"Removed {user.email}", "user", user.id)
        return user

    async def force_reset(
        self, actor_role: str, actor_user_id: int | None, membership_id: int
    ) -> tuple[User, str]:
        """Ends the member's sessions, voids their password and returns a one-time link
        secret to set a new one (handed over by the admin). A workspace admin may do this
        only for accounts that belong to this workspace alone (a link would otherwise open
        other workspaces too); the operator (``actor_user_id`` None) for any."""
        membership, user = await self.get(membership_id)
        self._may_manage(actor_role, membership, None)
        if user.id == actor_user_id:
            raise Forbidden("Change your own password on your account page.")
        if actor_user_id is not None and await member_count(self.session, user.id) > 1:
            raise Forbidden(ELSEWHERE)
        secret = await PasswordResetService(self.session, self.settings).issue(user)
        note(
            self.workspace_id,
            "member.password_reset",
            f"Reset the password of {user.email}",
            "user",
            user.id,
        )
        return user, secret
