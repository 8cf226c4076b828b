"""``/statuses``, ``/sources`` and ``/groups``: the same five endpoints for each kind."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.kit.body import json_body
from xobito.kit.openapi import LABEL, STATUS, api_responses, paginated, route_doc
from xobito.kit.pagination import page_path, paginate
from xobito.kit.params import Page, PerPage, RecordId
from xobito.kit.responses import success
from xobito.label.service import GROUPS, SOURCES, STATUSES, LabelKind, LabelService


def label_router(kind: LabelKind) -> APIRouter:
    router = APIRouter(prefix=f"/{kind.plural}", tags=[kind.plural], route_class=DatabaseRoute)
    one = kind.thing.lower()
    not_found = f"{kind.thing} not found"
    p = kind.plural
    doc = STATUS if kind is STATUSES else LABEL  # the record's OpenAPI schema

    @router.get(
        "",
        name=f"{p}.index",
        openapi_extra=route_doc(failure=f"list {p}"),
        responses=api_responses(data=paginated(doc)),
    )
    async def index(
        request: Request,
        page: Page = 1,
        per_page: PerPage = None,
        ctx: ApiContext = Ability(f"{p}.read"),
    ) -> Response:
        size = per_page or 15
        items, total = await LabelService(kind, ctx.session, ctx.workspace.id).page(page, size)
        return success(
            paginate(
                [kind.record(i) for i in items],
                total=total,
                page=page,
                per_page=size,
                path=page_path(request),
                keep={"per_page": per_page},
            )
        )

    @router.get(
        "/{record_id}",
        name=f"{p}.show",
        openapi_extra=route_doc(failure=f"retrieve {one}", not_found=not_found),
        responses=api_responses(data=doc, not_found=not_found),
    )
    async def show(record_id: RecordId, ctx: ApiContext = Ability(f"{p}.read")) -> Response:
        obj = await LabelService(kind, ctx.session, ctx.workspace.id).get(record_id)
        return success(kind.record(obj))

    @router.post(
        "",
        name=f"{p}.store",
        status_code=201,
        openapi_extra=route_doc(failure=f"create {one}", body=kind.body),
        responses=api_responses(
            201, data=doc, message=f"{kind.thing} created successfully", body=True
        ),
    )
    async def store(request: Request, ctx: ApiContext = Ability(f"{p}.create")) -> Response:
        service = LabelService(kind, ctx.session, ctx.workspace.id)
        obj = await service.create(await json_body(request))
        return success(kind.record(obj), f"{kind.thing} created successfully", 201)

    @router.put(
        "/{record_id}",
        name=f"{p}.update",
        openapi_extra=route_doc(failure=f"update {one}", not_found=not_found, body=kind.body),
        responses=api_responses(
            data=doc, message=f"{kind.thing} updated successfully", not_found=not_found, body=True
        ),
    )
    async def update(
        request: Request, record_id: RecordId, ctx: ApiContext = Ability(f"{p}.update")
    ) -> Response:
        service = LabelService(kind, ctx.session, ctx.workspace.id)
        obj, _ = await service.update(record_id, await json_body(request))
        return success(kind.record(obj), f"{kind.thing} updated successfully")

    @router.delete(
        "/{record_id}",
        name=f"{p}.destroy",
        openapi_extra=route_doc(failure=f"delete {one}", not_found=not_found),
        responses=api_responses(message=f"{kind.thing} deleted successfully", not_found=not_found),
    )
    async def destroy(
        request: Request, record_id: RecordId, ctx: ApiContext = Ability(f"{p}.delete")
    ) -> Response:
        await LabelService(kind, ctx.session, ctx.workspace.id).delete(record_id)
        return success(message=f"{kind.thing} deleted successfully")

    return router


routers = [label_router(kind) for kind in (STATUSES, SOURCES, GROUPS)]
