"""Forced password resets: the old password stops working at once, every session ends, and a
one-time link (shown to whoever forced the reset) lets the person choose a new one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.links import digest, new_secret
from xobito.account.repository import PasswordResetRepository, SessionRepository, UserRepository
from xobito.account.service import UserService, new_password_errors, note_everywhere
from xobito.config import Settings
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.time import utcnow
from xobito.models import PasswordReset, User

INVALID = "This password reset link is invalid or has expired."


class PasswordResetService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repo = PasswordResetRepository(session)

    async def issue(self, user: User) -> str:
        now = utcnow()
        await self.repo.expire_for_user(user.id, now)
        secret = new_secret()
        await self.repo.add(
            PasswordReset(
                user_id=user.id,
                token_hash=digest(secret),
                expires_at=now + timedelta(hours=self.settings.password_reset_hours),
            )
        )
        user.password_hash = None
        await SessionRepository(self.session).remove_for_user(user.id)
        await self.session.flush()
        return secret

    async def find(self, secret: str) -> tuple[PasswordReset, User]:
        reset = await self.repo.by_hash(digest(secret)) if len(secret) <= 128 else None
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            raise NotFound(INVALID)
        user = await UserRepository(self.session).get(reset.user_id)
        if user is None:
            raise NotFound(INVALID)
        return reset, user

    async def complete(self, secret: str, raw: Any) -> User:
        reset, user = await self.find(secret)
        data, errors = new_password_errors(raw)
        if data is None:
            raise ValidationFailed(errors)
        await UserService(self.session, self.settings).set_password(user, data.password)
        reset.used_at = utcnow()
        await self.session.flush()
        await note_everywhere(
            self.session, user, "user.password_set", f"{user.email} set a new password"
        )
        return user
