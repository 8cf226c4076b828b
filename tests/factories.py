"""Small helpers that build records through the real services (no HTTP, one commit each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xobito.account.service import UserService
from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.config import Settings
from xobito.contact.csv_rows import Record, Start
from xobito.contact.importing import ContactImporter
from xobito.contact.repository import ContactRepository
from xobito.contact.service import ContactService
from xobito.label.service import GROUPS, SOURCES, STATUSES, LabelService
from xobito.models import User, Workspace
from xobito.workspace.schemas import WorkspaceInfo
from xobito.workspace.service import WorkspaceService


@dataclass
class Tenant:
    """A workspace with a token; ``headers`` authenticate as that token."""

    workspace: Workspace
    token: str
    token_id: int

    @property
    def info(self) -> WorkspaceInfo:
        return WorkspaceInfo.of(self.workspace)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, path: str) -> str:
        return f"/api/v1/{self.workspace.subdomain}{path}"


PASSWORD = "correct horse battery"


class Factory:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings | None = None
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def workspace(self, subdomain: str | None = None, **fields: Any) -> Workspace:
        async with self.sessionmaker() as s:
            ws = await WorkspaceService(s).create(
                {"subdomain": subdomain or f"ws{self._next()}", "name": "Test", **fields}
            )
            await s.commit()
            return ws

    async def token(
        self, workspace: Workspace, abilities: list[str] | None = None, **fields: Any
    ) -> tuple[str, int]:
        async with self.sessionmaker() as s:
            token, plaintext = await TokenService(s).create(
                workspace, {"name": "test", "abilities": abilities or list(ABILITIES), **fields}
            )
            await s.commit()
            return plaintext, token.id

    async def tenant(
        self,
        subdomain: str | None = None,
        abilities: list[str] | None = None,
        token_fields: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Tenant:
        ws = await self.workspace(subdomain, **fields)
        plaintext, token_id = await self.token(ws, abilities, **(token_fields or {}))
        return Tenant(ws, plaintext, token_id)

    async def status(self, tenant: Tenant, name: str | None = None, **fields: Any) -> Any:
        return await self._label(
            STATUSES, tenant, {"name": name or f"Status {self._next()}", **fields}
        )

    async def source(self, tenant: Tenant, name: str | None = None) -> Any:
        return await self._label(SOURCES, tenant, {"name": name or f"Source {self._next()}"})

    async def group(self, tenant: Tenant, name: str | None = None) -> Any:
        return await self._label(GROUPS, tenant, {"name": name or f"Group {self._next()}"})

    async def _label(self, kind: Any, tenant: Tenant, body: dict[str, Any]) -> Any:
        async with self.sessionmaker() as s:
            obj = await LabelService(kind, s, tenant.workspace.id).create(body)
            await s.commit()
            return obj

    async def contact(self, tenant: Tenant, **fields: Any) -> dict[str, Any]:
        """A contact with a fresh status and source unless given."""
        if "status_id" not in fields:
            fields["status_id"] = (await self.status(tenant)).id
        if "source_id" not in fields:
            fields["source_id"] = (await self.source(tenant)).id
        n = self._next()
        body = {"firstname": f"Person {n}", "phone": f"+1415555{n:04d}", "type": "lead", **fields}
        async with self.sessionmaker() as s:
            record = await ContactService(s, tenant.info).create(body)
            await s.commit()
            return record

    async def contacts(self, tenant: Tenant, rows: list[dict[str, Any]]) -> list[int]:
        """Many contacts at once, through the bulk import (``ContactImporter``); their ids."""
        importer = ContactImporter(tenant.info)
        labels = {"status_id": (await self.status(tenant)).id,
                  "source_id": (await self.source(tenant)).id}
        records = [
            Record(i + 2, {"type": "lead", **labels, **row}, Start(0, i + 2))
            for i, row in enumerate(rows)
        ]
        async with self.sessionmaker() as s:
            for i in range(0, len(records), 1000):
                result = await importer.write(s, records[i : i + 1000])
                assert not result.errors, result.errors[:3]
            await s.commit()
            phones = [str(row["phone"]) for row in rows]
            found = await ContactRepository(s, tenant.workspace.id).by_phones(phones)
            return [found[p].id for p in phones]

    async def user(
        self,
        workspace: Workspace,
        role: str = "owner",
        email: str | None = None,
        password: str = PASSWORD,
        name: str | None = None,
    ) -> User:
        """A dashboard user with ``role`` in ``workspace`` (password ``PASSWORD``)."""
        assert self.settings is not None, "Factory(settings=...) makes users"
        n = self._next()
        body = {
            "email": email or f"{role}{n}@example.com",
            "role": role,
            "password": password,
            "name": name or f"{role.capitalize()} {n}",
        }
        async with self.sessionmaker() as s:
            made = await UserService(s, self.settings).create(workspace, body)
            await s.commit()
            return made.user
