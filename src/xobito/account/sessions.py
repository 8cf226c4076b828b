"""Dashboard sessions: a random id in an HttpOnly cookie, only its SHA-256 stored; idle and
absolute expiry; ended by sign-out, password changes and resets."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.account.repository import SessionRepository
from xobito.config import Settings
from xobito.kit.time import utcnow
from xobito.models import User, UserSession

# last_seen_at (the idle clock) is written at most this often per session.
TOUCH_EVERY = timedelta(seconds=60)


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    record: UserSession
    user: User
    cookie: str  # the session id as the browser holds it


class SessionService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.repo = SessionRepository(session)
        self.settings = settings

    async def start(self, user: User, ip: str | None, user_agent: str | None) -> SignedIn:
        """A new session (a new id, so a new CSRF token too)."""
        cookie = secrets.token_urlsafe(32)
        now = utcnow()
        record = await self.repo.add(
            UserSession(
                user_id=user.id,
                token_hash=digest(cookie),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=self.settings.session_max_hours),
                ip=ip,
                user_agent=(user_agent or "")[:255] or None,
            )
        )
        return SignedIn(record, user, cookie)

    async def resolve(self, cookie: str | None) -> SignedIn | None:
        """The live session this cookie names, else None. (Expired rows are deleted by the
        worker's maintenance, ``jobs/maintenance.py``; a page view stays read-only.)"""
        if not cookie or len(cookie) > 128:
            return None
        found = await self.repo.by_hash(digest(cookie))
        if found is None:
            return None
        record, user = found
        now = utcnow()
        idle = timedelta(minutes=self.settings.session_idle_minutes)
        if record.expires_at <= now or record.last_seen_at + idle <= now:
            return None
        if now - record.last_seen_at >= TOUCH_EVERY:
            await self.repo.touch(record.id, now)
            record.last_seen_at = now
        return SignedIn(record, user, cookie)

    async def end(self, record: UserSession) -> None:
        await self.repo.remove(record.id)

    async def end_all(self, user_id: int, keep_id: int | None = None) -> int:
        return await self.repo.remove_for_user(user_id, keep_id)
