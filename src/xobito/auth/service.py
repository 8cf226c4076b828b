"""Issuing and revoking tokens (admin API and CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.auth import tokens
from xobito.auth.repository import TokenRepository
from xobito.auth.schemas import TokenCreate
from xobito.kit.errors import NotFound
from xobito.kit.validation import require
from xobito.models import ApiToken, Workspace


class TokenService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = TokenRepository(session)

    async def create(self, workspace: Workspace, raw: Any) -> tuple[ApiToken, str]:
        """Returns the token and its plaintext, which is never retrievable again."""
        data = require(TokenCreate, raw)
        plaintext = tokens.generate()
        token = ApiToken(
            workspace_id=workspace.id,
            name=data.name,
            token_hash=tokens.digest(plaintext),
            token_prefix=plaintext[:10],
            abilities=list(dict.fromkeys(data.abilities)),
            rate_limit_max=data.rate_limit_max,
            monthly_quota=data.monthly_quota,
            expires_at=data.expires_at,
            is_active=True,
        )
        token = await self.repo.add(token)
        note(workspace.id, "token.created", f"Created API token {token.name}", "token", token.id)
        return token, plaintext

    async def list(self, workspace: Workspace) -> Sequence[ApiToken]:
        return await self.repo.for_workspace(workspace.id)

    async def page(
        self, workspace: Workspace, page: int, per_page: int
    ) -> tuple[Sequence[ApiToken], int]:
        return await self.repo.page(workspace.id, page, per_page)

    async def revoke(self, workspace: Workspace, token_id: int) -> ApiToken:
        token = await self.repo.get(workspace.id, token_id)
        if token is None:
            raise NotFound("Token not found")
        token.is_active = False
        await self.repo.session.flush()
        note(workspace.id, "token.revoked", f"Revoked API token {token.name}", "token", token.id)
        return token
