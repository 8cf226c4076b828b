"""Users: creating accounts, checking and changing passwords."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.links import new_password
from xobito.account.passwords import hash_password, needs_rehash, verify_password
from xobito.account.repository import MembershipRepository, SessionRepository, UserRepository
from xobito.account.schemas import (
    NewPassword,
    PasswordChange,
    UserCreate,
    confirmation_errors,
)
from xobito.activity.recorder import note
from xobito.config import Settings
from xobito.kit.errors import ValidationFailed
from xobito.kit.time import utcnow
from xobito.kit.validation import merge, parse, require
from xobito.models import Membership, User, Workspace

EMAIL_TAKEN = "The email has already been taken."
WRONG_CURRENT = "The current password is incorrect."


@dataclass(frozen=True, slots=True)
class NewMember:
    user: User
    membership: Membership
    generated_password: str | None
    existing_account: bool


class UserService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.users = UserRepository(session)
        self.memberships = MembershipRepository(session)

    async def create(self, workspace: Workspace, raw: Any) -> NewMember:
        """An account with ``role`` in ``workspace`` (CLI, admin API, the run command's demo).

        The generated password, when a new account was made without one, is returned once.
        An email that already has an account gets the membership and keeps its password."""
        data = require(UserCreate, raw)
        user = await self.users.by_email(data.email)
        existing = user is not None
        generated = None
        if user is None:
            password = data.password
            if password is None:
                generated = password = new_password()
            user = await self.users.add(
                User(
                    email=data.email,
                    name=data.name or data.email.split("@", 1)[0],
                    password_hash=await hash_password(password, self.settings.password_hashing),
                    password_changed_at=utcnow(),
                )
            )
        elif await self.memberships.of(user.id, workspace.id) is not None:
            raise ValidationFailed({"email": [EMAIL_TAKEN]})
        membership = await self.memberships.add(
            Membership(user_id=user.id, workspace_id=workspace.id, role=data.role)
        )
        note(
            workspace.id,
            "member.added",
            f"Added {user.email} as {data.role}",
            "user",
            user.id,
        )
        return NewMember(user, membership, generated, existing)

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, else None (same cost either way)."""
        user = await self.users.by_email(email)
        stored = user.password_hash if user is not None else None
        if not await verify_password(stored, password, self.settings.password_hashing):
            return None
        assert user is not None and user.password_hash is not None
        if needs_rehash(user.password_hash, self.settings.password_hashing):
            user.password_hash = await hash_password(password, self.settings.password_hashing)
        user.last_sign_in_at = utcnow()
        await self.session.flush()
        return user

    async def rename(self, user: User, name: str) -> None:
        before = user.name
        user.name = name
        await self.session.flush()
        await note_everywhere(
            self.session, user, "user.renamed", f"{user.email} changed their name from {before}"
        )

    async def change_password(self, user: User, raw: Any, keep_session_id: int) -> None:
        """The signed-in user's own change; every other session of theirs ends."""
        data, errors, _ = parse(PasswordChange, raw)
        errors = merge(PasswordChange, errors, confirmation_errors(raw))
        current = raw.get("current_password") if isinstance(raw, dict) else None
        if isinstance(current, str) and not await verify_password(
            user.password_hash, current, self.settings.password_hashing
        ):
            errors = merge(PasswordChange, errors, {"current_password": [WRONG_CURRENT]})
        if errors or data is None:
            raise ValidationFailed(errors)
        await self.set_password(user, data.password, keep_session_id=keep_session_id)
        await note_everywhere(
            self.session, user, "user.password_changed", f"{user.email} changed their password"
        )

    async def set_password(
        self, user: User, password: str, *, keep_session_id: int | None = None
    ) -> None:
        user.password_hash = await hash_password(password, self.settings.password_hashing)
        user.password_changed_at = utcnow()
        await SessionRepository(self.session).remove_for_user(user.id, keep_session_id)
        await self.session.flush()


async def note_everywhere(session: AsyncSession, user: User, action: str, summary: str) -> None:
    """An account event (sign-in, password change) goes into the activity log of every
    workspace the user belongs to: each workspace's admins see who entered it, and when."""
    for workspace, _ in await MembershipRepository(session).workspaces_of(user.id):
        note(workspace.id, action, summary, "user", user.id)


def new_password_errors(raw: Any) -> tuple[NewPassword | None, dict[str, list[str]]]:
    """``password`` + ``password_confirmation`` checked together (Laravel ``confirmed``)."""
    data, errors, _ = parse(NewPassword, raw)
    errors = merge(NewPassword, errors, confirmation_errors(raw))
    return (data if not errors else None), errors
