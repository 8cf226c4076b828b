"""``/campaigns``: create, list, read, recipients, report, and state changes; the pacing of
sending numbers and the opt-out keywords (beyond Xobito's v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.campaign.report import report_csv
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import (
    CAMPAIGN,
    NUMBER,
    OPT_OUT,
    RECIPIENT_PAGE,
    RECIPIENT_STATES,
    STATES,
    CampaignIn,
    NumberIn,
    OptOutIn,
    recipient_record,
)
from xobito.campaign.service import NOT_FOUND, CampaignService
from xobito.campaign.settings_service import NUMBER_NOT_FOUND, CampaignSettings
from xobito.kit.body import json_body
from xobito.kit.errors import Conflict, ValidationFailed
from xobito.kit.multipart import is_multipart, read_form
from xobito.kit.openapi import Responses, api_responses, paginated, route_doc
from xobito.kit.pagination import page_path, paginate
from xobito.kit.params import Page, PerPage, RecordId
from xobito.kit.responses import success

router = APIRouter(prefix="/campaigns", tags=["campaigns"], route_class=DatabaseRoute)
MAX_UPLOAD = 25 * 1024 * 1024
NumberId = Annotated[str, Path(max_length=64, pattern=r"^[0-9]{1,64}$")]


def service(request: Request, ctx: ApiContext) -> CampaignService:
    return CampaignService(ctx.session, ctx.workspace, request.app.state.providers)


# ---- settings (before /{campaign_id}, which would take their paths) --------------------------


@router.get(
    "/numbers/{phone_number_id}",
    name="campaigns.numbers.show",
    openapi_extra=route_doc(failure="retrieve sending number", not_found=NUMBER_NOT_FOUND),
    responses=api_responses(data=NUMBER, not_found=NUMBER_NOT_FOUND),
)
async def number_show(
    phone_number_id: NumberId, ctx: ApiContext = Ability("campaigns.read")
) -> Response:
    return success(await CampaignSettings(ctx.session, ctx.workspace).number(phone_number_id))


@router.put(
    "/numbers/{phone_number_id}",
    name="campaigns.numbers.update",
    openapi_extra=route_doc(
        failure="update sending number", not_found=NUMBER_NOT_FOUND, body=NumberIn
    ),
    responses=api_responses(
        data=NUMBER, message="Sending number updated successfully", not_found=NUMBER_NOT_FOUND,
        body=True,
    ),
)
async def number_update(
    request: Request, phone_number_id: NumberId, ctx: ApiContext = Ability("campaigns.update")
) -> Response:
    settings = CampaignSettings(ctx.session, ctx.workspace)
    record = await settings.set_number(phone_number_id, await json_body(request))
    return success(record, "Sending number updated successfully")


@router.get(
    "/opt-out",
    name="campaigns.opt_out.show",
    openapi_extra=route_doc(failure="retrieve opt-out settings"),
    responses=api_responses(data=OPT_OUT),
)
async def opt_out_show(ctx: ApiContext = Ability("campaigns.read")) -> Response:
    return success(await CampaignSettings(ctx.session, ctx.workspace).opt_out())


@router.put(
    "/opt-out",
    name="campaigns.opt_out.update",
    openapi_extra=route_doc(failure="update opt-out settings", body=OptOutIn),
    responses=api_responses(
        data=OPT_OUT, message="Opt-out settings updated successfully", body=True
    ),
)
async def opt_out_update(
    request: Request, ctx: ApiContext = Ability("campaigns.update")
) -> Response:
    record = await CampaignSettings(ctx.session, ctx.workspace).set_opt_out(
        await json_body(request)
    )
    return success(record, "Opt-out settings updated successfully")


# ---- campaigns ---------------------------------------------------------------------------------


@router.get(
    "",
    name="campaigns.index",
    openapi_extra=route_doc(failure="list campaigns"),
    responses=api_responses(data=paginated(CAMPAIGN)),
)
async def index(
    request: Request,
    page: Page = 1,
    per_page: PerPage = None,
    state: Literal[STATES] | None = None,  # type: ignore[valid-type]
    ctx: ApiContext = Ability("campaigns.read"),
) -> Response:
    size = per_page or 15
    items, total = await service(request, ctx).page(page, size, state)
    return success(
        paginate(items, total=total, page=page, per_page=size, path=page_path(request),
                 keep={"per_page": per_page, "state": state})
    )


@router.post(
    "",
    name="campaigns.store",
    status_code=201,
    openapi_extra=route_doc(
        failure="create campaign", body=CampaignIn, multipart=CampaignIn, max_body=MAX_UPLOAD
    ),
    responses=api_responses(201, data=CAMPAIGN, message="Campaign created successfully", body=True),
)
async def store(request: Request, ctx: ApiContext = Ability("campaigns.create")) -> Response:
    if is_multipart(request):
        fields, files = await read_form(request, MAX_UPLOAD)
    else:
        fields, files = await json_body(request), {}
    svc = service(request, ctx)
    campaign = await svc.create(fields, files, token_id=ctx.token.id)
    return success(await svc.record(campaign), "Campaign created successfully", 201)


@router.get(
    "/{campaign_id}",
    name="campaigns.show",
    openapi_extra=route_doc(failure="retrieve campaign", not_found=NOT_FOUND),
    responses=api_responses(data=CAMPAIGN, not_found=NOT_FOUND),
)
async def show(
    request: Request, campaign_id: RecordId, ctx: ApiContext = Ability("campaigns.read")
) -> Response:
    svc = service(request, ctx)
    return success(await svc.record(await svc.get(campaign_id)))


@router.delete(
    "/{campaign_id}",
    name="campaigns.destroy",
    openapi_extra=route_doc(failure="delete campaign", not_found=NOT_FOUND),
    responses=api_responses(
        message="Campaign deleted successfully", not_found=NOT_FOUND,
        conflict="The campaign started and has not finished",
    ),
)
async def destroy(
    request: Request, campaign_id: RecordId, ctx: ApiContext = Ability("campaigns.delete")
) -> Response:
    svc = service(request, ctx)
    campaign = await svc.get(campaign_id, lock=True)
    if campaign.state in ("running", "paused") and campaign.completed_at is None and (
        campaign.started_at is not None
    ):
        raise Conflict("A started campaign cannot be deleted: cancel it first.")
    await ctx.session.delete(campaign)
    return success(message="Campaign deleted successfully")


def _action(name: str, done: str) -> Any:
    async def act(
        request: Request, campaign_id: RecordId, ctx: ApiContext = Ability("campaigns.update")
    ) -> Response:
        svc = service(request, ctx)
        extra: dict[str, Any] = {}
        if name == "retry-failed":
            campaign, count = await svc.retry_failed(campaign_id)
            extra["retried"] = count
        else:
            campaign = await getattr(svc, name)(campaign_id)
        record = await svc.record(campaign)
        return success({**record, **extra}, done)

    act.__name__ = name.replace("-", "_")
    return act


for _name, _done in (
    ("start", "Campaign started successfully"),
    ("pause", "Campaign paused successfully"),
    ("resume", "Campaign resumed successfully"),
    ("cancel", "Campaign cancelled successfully"),
    ("retry-failed", "Failed recipients queued again"),
):
    router.add_api_route(
        f"/{{campaign_id}}/{_name}",
        _action(_name, _done),
        methods=["POST"],
        name=f"campaigns.{_name.replace('-', '_')}",
        openapi_extra=route_doc(failure=f"{_name.replace('-', ' ')} campaign",
                                not_found=NOT_FOUND),
        responses=api_responses(
            data={"type": "object"}, message=_done, not_found=NOT_FOUND,
            conflict="The campaign's state does not allow it",
        ),
    )


@router.get(
    "/{campaign_id}/recipients",
    name="campaigns.recipients",
    openapi_extra=route_doc(failure="list campaign recipients", not_found=NOT_FOUND),
    responses=api_responses(data=RECIPIENT_PAGE, not_found=NOT_FOUND),
)
async def recipients(
    request: Request,
    campaign_id: RecordId,
    state: Annotated[list[Literal[RECIPIENT_STATES]] | None, Query()] = None,  # type: ignore[valid-type]
    cursor: Annotated[str | None, Query(max_length=12, pattern=r"^[0-9]+$")] = None,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
    ctx: ApiContext = Ability("campaigns.read"),
) -> Response:
    campaign = await service(request, ctx).get(campaign_id)
    after = int(cursor) if cursor else 0
    if after > 2**31:
        raise ValidationFailed({"cursor": ["The cursor is invalid."]})
    repo = CampaignRepository(ctx.session, ctx.workspace.id)
    rows = await repo.recipients(campaign.id, state or [], after, per_page)
    next_cursor = str(rows[-1].id) if len(rows) == per_page else None
    return success({"data": [recipient_record(r) for r in rows], "next_cursor": next_cursor,
                    "per_page": per_page})


@router.get(
    "/{campaign_id}/failures",
    name="campaigns.failures",
    openapi_extra=route_doc(failure="list campaign failures", not_found=NOT_FOUND),
    responses=api_responses(data={"type": "array"}, not_found=NOT_FOUND),
)
async def failures(
    request: Request, campaign_id: RecordId, ctx: ApiContext = Ability("campaigns.read")
) -> Response:
    campaign = await service(request, ctx).get(campaign_id)
    rows = await CampaignRepository(ctx.session, ctx.workspace.id).failures(campaign.id)
    return success([{"error_code": c, "error_message": m, "count": n} for c, m, n in rows])


def _csv_responses() -> Responses:
    out = api_responses(not_found=NOT_FOUND)
    csv_body = {"text/csv": {"schema": {"type": "string"}}}
    out[200] = {**out[200], "description": "One row per recipient", "content": csv_body}
    return out


@router.get(
    "/{campaign_id}/report.csv",
    name="campaigns.report",
    openapi_extra=route_doc(failure="export campaign report", not_found=NOT_FOUND),
    responses=_csv_responses(),
)
async def report(
    request: Request, campaign_id: RecordId, ctx: ApiContext = Ability("campaigns.read")
) -> Response:
    campaign = await service(request, ctx).get(campaign_id)
    filename = f"campaign-{campaign.id}-report.csv"
    return Response(
        await report_csv(ctx.session, ctx.workspace.id, campaign.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
