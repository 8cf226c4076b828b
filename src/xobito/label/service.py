"""Rules for statuses, sources and groups; one service, three kinds (docs/api/labels.md)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.repository import ScopedRepository
from xobito.kit.validation import RequestModel, merge, parse
from xobito.label.repository import GroupRepository, SourceRepository, StatusRepository
from xobito.label.schemas import (
    GroupIn,
    SourceIn,
    StatusIn,
    named_record,
    status_record,
)
from xobito.models import Group, Source, Status
from xobito.webhook.events import emit_crud
from xobito.webhook.schemas import CRUD_RESOURCES

NAME_TAKEN = "The name has already been taken."


@dataclass(frozen=True)
class LabelKind:
    """Everything that differs between statuses, sources and groups."""

    plural: str
    thing: str
    model: type[Any]
    repository: type[ScopedRepository[Any]]
    body: type[RequestModel]
    record: Callable[[Any], dict[str, Any]]


STATUSES = LabelKind("statuses", "Status", Status, StatusRepository, StatusIn, status_record)
SOURCES = LabelKind("sources", "Source", Source, SourceRepository, SourceIn, named_record)
GROUPS = LabelKind("groups", "Group", Group, GroupRepository, GroupIn, named_record)


class LabelService:
    def __init__(self, kind: LabelKind, session: AsyncSession, workspace_id: int) -> None:
        self.kind = kind
        self.repo = kind.repository(session, workspace_id)

    async def page(self, page: int, per_page: int) -> tuple[Sequence[Any], int]:
        return await self.repo.page(page, per_page)

    async def get(self, record_id: int) -> Any:
        obj = await self.repo.get(record_id)
        if obj is None:
            raise NotFound(f"{self.kind.thing} not found")
        return obj

    async def _validated(self, raw: Any, exclude_id: int | None) -> RequestModel:
        data, errors, values = parse(self.kind.body, raw)
        extra: dict[str, list[str]] = {}
        if "name" in values and await self.repo.taken(
            self.kind.model.name, values["name"], exclude_id
        ):
            extra["name"] = [NAME_TAKEN]
        if errors or extra or data is None:
            raise ValidationFailed(merge(self.kind.body, errors, extra))
        return data

    async def create(self, raw: Any) -> Any:
        data = await self._validated(raw, None)
        columns = _columns(data)
        await self._single_default(columns, None)
        obj = self.kind.model(**columns)
        try:
            obj = await self.repo.add(obj)
        except IntegrityError:  # a concurrent request took the name first
            raise ValidationFailed({"name": [NAME_TAKEN]}) from None
        await self._emit("created", obj)
        return obj

    async def update(self, record_id: int, raw: Any) -> tuple[Any, dict[str, Any]]:
        """Returns the record and its attributes before the change.

        Validation (422) comes before the record lookup (404), in the order of
        docs/api/authentication.md.
        """
        data = await self._validated(raw, record_id)
        columns = _columns(data)
        # Before the read: under the lock, the record is read as the last change left it.
        await self._single_default(columns, record_id)
        obj = await self.get(record_id)
        before = self.kind.record(obj)
        for field, value in columns.items():
            setattr(obj, field, value)
        try:
            await self.repo.session.flush()
        except IntegrityError:
            raise ValidationFailed({"name": [NAME_TAKEN]}) from None
        await self._emit("updated", obj, before)
        return obj, before

    async def delete(self, record_id: int) -> Any:
        """References from contacts are cleared by the foreign keys (SET NULL / CASCADE)."""
        obj = await self.get(record_id)
        record = self.kind.record(obj)
        await self.repo.remove(obj)
        await self._emit("deleted", record)
        return obj

    async def _emit(self, action: str, obj: Any, before: dict[str, Any] | None = None) -> None:
        """CRUD webhooks exist for statuses and sources (docs/webhooks.md), not for groups."""
        record = obj if isinstance(obj, dict) else self.kind.record(obj)
        thing = self.kind.thing.lower()
        note(
            self.repo.workspace_id,
            f"{thing}.{action}",
            f"{action.capitalize()} {thing} {record['name']}",
            thing,
            record["id"],
        )
        if self.kind.plural in CRUD_RESOURCES:
            await emit_crud(
                self.repo.session, self.repo.workspace_id, self.kind.plural, action, record, before
            )

    async def _single_default(self, columns: dict[str, Any], record_id: int | None) -> None:
        """A status becoming the default clears the others first (the unique index allows
        one default at a time)."""
        if columns.get("isdefault") and isinstance(self.repo, StatusRepository):
            await self.repo.clear_default(record_id)


def _columns(data: RequestModel) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=True)
    if "isdefault" in values:
        values["isdefault"] = bool(values["isdefault"])
    return values
