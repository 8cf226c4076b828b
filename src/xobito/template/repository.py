"""All SQL about templates."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.repository import ScopedRepository
from xobito.models import Template


class TemplateRepository(ScopedRepository[Template]):
    model = Template

    async def by_name(self, name: str, language: str) -> Template | None:
        stmt = self.select().where(Template.template_name == name, Template.language == language)
        template: Template | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return template

    async def approved(self, limit: int = 1000) -> list[Template]:
        """Approved templates by name and language (what a campaign may send)."""
        stmt = (
            self.select()
            .where(Template.status == "APPROVED")
            .order_by(Template.template_name, Template.language)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())


async def set_status_by_meta_id(
    session: AsyncSession, workspace_ids: list[int], template_id: str, status: str
) -> int:
    """Meta's ``message_template_status_update`` names the template by its Meta id only."""
    if not workspace_ids:
        return 0
    result = await session.execute(
        update(Template)
        .where(Template.workspace_id.in_(workspace_ids), Template.template_id == template_id)
        .values(status=status)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def ids_by_meta_id(session: AsyncSession, template_id: str) -> list[int]:
    stmt = select(Template.id).where(Template.template_id == template_id)
    return list((await session.execute(stmt)).scalars().all())
