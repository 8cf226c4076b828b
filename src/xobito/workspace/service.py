"""Rules for creating and changing workspaces (used by the admin API and the CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.config import get_settings
from xobito.connection.service import ConnectionService
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.validation import parse
from xobito.models import Workspace
from xobito.workspace.repository import WorkspaceRepository
from xobito.workspace.schemas import WorkspaceCreate, WorkspaceUpdate

TAKEN = "The subdomain has already been taken."


class WorkspaceService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = WorkspaceRepository(session)

    async def create(self, raw: Any) -> Workspace:
        data, errors, values = parse(WorkspaceCreate, raw)
        if "subdomain" in values and await self.repo.by_subdomain(values["subdomain"]):
            errors.setdefault("subdomain", []).append(TAKEN)
        if errors or data is None:
            raise ValidationFailed(errors)
        ws = Workspace(
            subdomain=data.subdomain,
            name=data.name,
            max_contacts=data.max_contacts,
            rate_limit_max=data.rate_limit_max or 60,
            rate_limit_decay=data.rate_limit_decay or 1,
            enforce_care_window=True
            if data.enforce_care_window is None
            else data.enforce_care_window,
            whatsapp_provider=get_settings().whatsapp_provider,
        )
        ws = await self.repo.add(ws)
        note(ws.id, "workspace.created", f"Created workspace {ws.name} ({ws.subdomain})")
        if ws.whatsapp_provider == "sandbox":
            await ConnectionService(self.repo.session).connect_sandbox(ws)
        return ws

    async def get(self, subdomain: str) -> Workspace:
        ws = await self.repo.by_subdomain(subdomain)
        if ws is None:
            raise NotFound("Workspace not found")
        return ws

    async def list(self) -> Sequence[Workspace]:
        return await self.repo.all()

    async def update(self, subdomain: str, raw: Any) -> Workspace:
        ws = await self.get(subdomain)
        data, errors, _ = parse(WorkspaceUpdate, raw)
        if errors or data is None:
            raise ValidationFailed(errors)
        for field in data.model_fields_set:
            value = getattr(data, field)
            if value is None and field in (
                "name",
                "rate_limit_max",
                "rate_limit_decay",
                "enforce_care_window",
            ):
                continue  # not nullable: null means "leave as is"
            setattr(ws, field, value)
        await self.repo.session.flush()
        changed = ", ".join(f.replace("_", " ") for f in sorted(data.model_fields_set))
        note(ws.id, "workspace.updated", f"Changed workspace settings ({changed or 'nothing'})")
        return ws
