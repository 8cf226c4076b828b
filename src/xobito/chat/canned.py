"""Canned (saved) replies of a workspace: a shortcut and a text, inserted in the inbox
composer by typing ``/shortcut``. Managed in Settings → Inbox by admins."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.models import CannedReply

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SHORTCUT_MAX = 64
BODY_MAX = 4096
SHORTCUT_TAKEN = "The shortcut has already been taken."
LIMIT = 200  # per workspace: the composer's picker lists them all


class CannedReplyService:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id

    async def all(self) -> Sequence[CannedReply]:
        stmt = (
            select(CannedReply)
            .where(CannedReply.workspace_id == self.workspace_id)
            .order_by(CannedReply.shortcut)
            .limit(LIMIT)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def get(self, reply_id: int) -> CannedReply:
        found = await self.session.scalar(
            select(CannedReply).where(
                CannedReply.workspace_id == self.workspace_id, CannedReply.id == reply_id
            )
        )
        if found is None:
            raise NotFound("Saved reply not found")
        return found

    async def _check(self, data: Mapping[str, Any], current: CannedReply | None) -> tuple[str, str]:
        shortcut = str(data.get("shortcut") or "").strip().lstrip("/").lower()
        body = str(data.get("body") or "").strip()
        errors: dict[str, list[str]] = {}
        if not shortcut:
            errors["shortcut"] = ["The shortcut field is required."]
        elif len(shortcut) > SHORTCUT_MAX:
            too_long = f"The shortcut may not be greater than {SHORTCUT_MAX} characters."
            errors["shortcut"] = [too_long]
        elif not SHORTCUT.match(shortcut):
            errors["shortcut"] = [
                "The shortcut may only contain letters, numbers, dashes and underscores."
            ]
        else:
            clash = await self.session.scalar(
                select(CannedReply.id).where(
                    CannedReply.workspace_id == self.workspace_id,
                    CannedReply.shortcut == shortcut,
                )
            )
            if clash is not None and (current is None or clash != current.id):
                errors["shortcut"] = [SHORTCUT_TAKEN]
        if not body:
            errors["body"] = ["The text field is required."]
        elif len(body) > BODY_MAX:
            errors["body"] = [f"The text may not be greater than {BODY_MAX} characters."]
        if current is None and not errors:
            count = await self.session.scalar(
                select(func.count()).where(CannedReply.workspace_id == self.workspace_id)
            )
            if (count or 0) >= LIMIT:
                errors["shortcut"] = [f"A workspace keeps at most {LIMIT} saved replies."]
        if errors:
            raise ValidationFailed(errors)
        return shortcut, body

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError:  # a concurrent save took the shortcut after the check
            raise ValidationFailed({"shortcut": [SHORTCUT_TAKEN]}) from None

    async def create(self, data: Mapping[str, Any]) -> CannedReply:
        shortcut, body = await self._check(data, None)
        reply = CannedReply(workspace_id=self.workspace_id, shortcut=shortcut, body=body)
        self.session.add(reply)
        await self._flush()
        note(self.workspace_id, "canned_reply.created", f"Added the saved reply /{shortcut}",
             "canned_reply", reply.id)  # fmt: skip
        return reply

    async def update(self, reply_id: int, data: Mapping[str, Any]) -> CannedReply:
        reply = await self.get(reply_id)
        reply.shortcut, reply.body = await self._check(data, reply)
        await self._flush()
        text = f"Changed the saved reply /{reply.shortcut}"
        note(self.workspace_id, "canned_reply.updated", text, "canned_reply", reply.id)
        return reply

    async def delete(self, reply_id: int) -> str:
        reply = await self.get(reply_id)
        shortcut = reply.shortcut
        await self.session.delete(reply)
        await self.session.flush()
        note(self.workspace_id, "canned_reply.deleted", f"Deleted the saved reply /{shortcut}",
             "canned_reply", reply_id)  # fmt: skip
        return shortcut
