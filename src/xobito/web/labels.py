"""Statuses, sources and groups: one small page group per kind (list, create, edit, delete).

Every change goes through ``LabelService`` (the API's rules and messages, the one-default
status rule, the webhooks of statuses and sources, the activity log). Every member sees the
lists; creating, editing and deleting need an admin, as they change what every contact shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.label.service import GROUPS, SOURCES, STATUSES, LabelKind, LabelService
from xobito.models import Contact, ContactGroup
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.lists import Pagination, page_params
from xobito.web.render import redirect, render

# What the pages say about each kind.
HELP = {
    "statuses": "Where each contact stands in your pipeline. New contacts get the default status.",
    "sources": "Where your contacts came from: a website form, a fair, an import.",
    "groups": "Lists of contacts to message together. A contact can be in many groups.",
}


async def _usage(member: Member, kind: LabelKind, ids: list[int]) -> dict[int, int]:
    """How many contacts use each label (shown so a delete is an informed choice)."""
    if not ids:
        return {}
    stmt: Any
    if kind is GROUPS:
        stmt = (
            select(ContactGroup.group_id, func.count())
            .where(ContactGroup.group_id.in_(ids))
            .group_by(ContactGroup.group_id)
        )
    else:
        column = Contact.status_id if kind is STATUSES else Contact.source_id
        stmt = (
            select(column, func.count())
            .where(Contact.workspace_id == member.workspace.id, column.in_(ids))
            .group_by(column)
        )
    return {int(k): int(n) for k, n in (await member.session.execute(stmt)).all()}


def label_pages(kind: LabelKind) -> APIRouter:
    router = APIRouter(prefix=f"/{{subdomain}}/{kind.plural}", route_class=DatabaseRoute)
    p = kind.plural
    thing = kind.thing

    def service(member: Member) -> LabelService:
        return LabelService(kind, member.session, member.workspace.id)

    def form_page(
        request: Request,
        member: Member,
        *,
        values: Mapping[str, Any],
        errors: Mapping[str, list[str]] | None = None,
        record: Any = None,
        status: int = 200,
    ) -> Response:
        errors = dict(errors or {})
        fields = ("name", "color", "isdefault") if kind is STATUSES else ("name",)
        context = {
            "kind": kind,
            "values": values,
            "errors": errors,
            "other_errors": [m for k, ms in errors.items() if k not in fields for m in ms],
            "record": record,
        }
        return render(
            request, "labels/form.html", context, fragment="labels/_form.html", status_code=status
        )

    @router.get("", name=f"web.{p}")
    async def index(request: Request, member: Member = Role("agent")) -> Response:
        page, per_page = page_params(request.query_params)
        svc = service(member)
        items, total = await svc.page(page, per_page)
        if not items and page > 1 and total:
            page = Pagination(1, per_page, total).last_page
            items, total = await svc.page(page, per_page)
        context = {
            "kind": kind,
            "help": HELP[p],
            "items": items,
            "usage": await _usage(member, kind, [i.id for i in items]),
            "pager": Pagination(page, per_page, total),
        }
        return render(
            request,
            "labels/list.html",
            context,
            fragment={"labels-results": "labels/_results.html"},
        )

    @router.get("/new", name=f"web.{p}.new")
    async def new(request: Request, member: Member = Role("admin")) -> Response:
        return form_page(request, member, values={})

    @router.post("", name=f"web.{p}.create")
    async def create(request: Request, member: Member = Role("admin")) -> Response:
        data = await form_data(request)
        try:
            obj = await service(member).create(data)
        except ValidationFailed as exc:
            return form_page(request, member, values=data, errors=exc.errors, status=422)
        return redirect(request, member.url(f"/{p}"), f"{thing} {obj.name} created.")

    @router.get("/{record_id}", name=f"web.{p}.edit")
    async def edit(
        request: Request, record_id: RecordId, member: Member = Role("admin")
    ) -> Response:
        obj = await service(member).get(record_id)
        return form_page(request, member, values=kind.record(obj), record=obj)

    @router.post("/{record_id}", name=f"web.{p}.update")
    async def update(
        request: Request, record_id: RecordId, member: Member = Role("admin")
    ) -> Response:
        svc = service(member)
        obj = await svc.get(record_id)  # 404 before anything else
        data = await form_data(request)
        try:
            obj, _ = await svc.update(record_id, data)
        except ValidationFailed as exc:
            return form_page(
                request, member, values=data, errors=exc.errors, record=obj, status=422
            )
        return redirect(request, member.url(f"/{p}"), f"{thing} {obj.name} saved.")

    @router.post("/{record_id}/delete", name=f"web.{p}.delete")
    async def delete(
        request: Request, record_id: RecordId, member: Member = Role("admin")
    ) -> Response:
        obj = await service(member).delete(record_id)
        return redirect(request, member.url(f"/{p}"), f"{thing} {obj.name} deleted.")

    return router


routers = [label_pages(kind) for kind in (STATUSES, SOURCES, GROUPS)]
