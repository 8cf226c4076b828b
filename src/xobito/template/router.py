"""``/templates``: read-only over the API."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.kit.openapi import TEMPLATE, api_responses, paginated, route_doc
from xobito.kit.pagination import page_path, paginate
from xobito.kit.params import Page, PerPage, RecordId
from xobito.kit.responses import success
from xobito.template.schemas import template_record
from xobito.template.service import TemplateService

router = APIRouter(prefix="/templates", tags=["templates"], route_class=DatabaseRoute)


@router.get(
    "",
    name="templates.index",
    openapi_extra=route_doc(failure="list templates"),
    responses=api_responses(data=paginated(TEMPLATE)),
)
async def index(
    request: Request,
    page: Page = 1,
    per_page: PerPage = None,
    ctx: ApiContext = Ability("templates.read"),
) -> Response:
    size = per_page or 15
    items, total = await TemplateService(ctx.session, ctx.workspace.id).page(page, size)
    return success(
        paginate(
            [template_record(t) for t in items],
            total=total,
            page=page,
            per_page=size,
            path=page_path(request),
            keep={"per_page": per_page},
        )
    )


@router.get(
    "/{template_id}",
    name="templates.show",
    openapi_extra=route_doc(failure="retrieve template", not_found="Template not found"),
    responses=api_responses(data=TEMPLATE, not_found="Template not found"),
)
async def show(template_id: RecordId, ctx: ApiContext = Ability("templates.read")) -> Response:
    template = await TemplateService(ctx.session, ctx.workspace.id).get(template_id)
    return success(template_record(template))
