"""Template rules: listing, synchronising from Meta, status updates."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.connection.repository import ConnectionRepository
from xobito.connection.service import NOT_CONNECTED, ConnectionService
from xobito.kit.errors import NotFound, UpstreamFailure, ValidationFailed
from xobito.kit.time import utcnow
from xobito.models import Template
from xobito.template.repository import TemplateRepository
from xobito.template.schemas import from_meta
from xobito.whatsapp.base import WhatsAppProvider
from xobito.whatsapp.errors import WhatsAppError

SYNC_FAILED = "Failed to sync templates"


class TemplateService:
    def __init__(self, session: AsyncSession, workspace_id: int) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.repo = TemplateRepository(session, workspace_id)

    async def page(self, page: int, per_page: int) -> tuple[Sequence[Template], int]:
        return await self.repo.page(page, per_page)

    async def get(self, template_id: int) -> Template:
        template = await self.repo.get(template_id)
        if template is None:
            raise NotFound("Template not found")
        return template

    async def sync(self, providers: dict[str, WhatsAppProvider]) -> dict[str, int]:
        """Pull every template (all cursor pages) and upsert by name + language."""
        link = await ConnectionService(self.session).link(self.workspace_id)
        if link is None:
            raise ValidationFailed({"whatsapp": [NOT_CONNECTED]})
        try:
            remote = await providers[link.provider].list_templates(link.info)
        except WhatsAppError as exc:
            raise UpstreamFailure(SYNC_FAILED, {"whatsapp": [exc.describe()]}) from exc
        created = updated = 0
        for meta in remote:
            values = from_meta(meta)
            if not values["template_name"] or not values["language"]:
                continue
            existing = await self.repo.by_name(values["template_name"], values["language"])
            if existing is None:
                await self.repo.add(Template(**values))
                created += 1
            else:
                for key, value in values.items():
                    setattr(existing, key, value)
                updated += 1
        conn = await ConnectionRepository(self.session).for_workspace(self.workspace_id)
        if conn is not None:
            conn.templates_synced_at = utcnow()  # the doctor's "templates never synced"
        await self.session.flush()
        note(
            self.workspace_id,
            "templates.synced",
            f"Synced templates from Meta: {created} new, {updated} updated",
        )
        return {"created": created, "updated": updated, "total": len(remote)}
