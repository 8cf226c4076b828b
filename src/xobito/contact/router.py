"""``/contacts``: list, read, create, replace, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.dependencies import Ability, ApiContext
from xobito.contact.listing import filters
from xobito.contact.schemas import ContactCreate, ContactUpdate
from xobito.contact.service import ContactService
from xobito.kit.body import json_body
from xobito.kit.cursor import decode as decode_cursor
from xobito.kit.openapi import CONTACT, api_responses, cursor_paginated, paginated, route_doc
from xobito.kit.pagination import keyset_page, page_path, paginate
from xobito.kit.params import Page, PerPage, RecordId
from xobito.kit.responses import success

router = APIRouter(prefix="/contacts", tags=["contacts"], route_class=DatabaseRoute)
NOT_FOUND = "Contact not found"
CURSOR_DOC = (
    "Opt-in keyset pagination for deep scans, beyond the spec's page numbers: give `cursor`"
    " (`start` for the first page, then each response's `next_cursor`) and the answer is"
    " `{data, path, per_page, next_cursor, next_page_url}` in id order, with no total;"
    " `page` is then ignored, the filters apply. `next_cursor` is `null` on the last page."
    " Rows inserted during a scan are met once if their ids are above the cursor (new"
    " contacts always are); no row is met twice. Without `cursor` the response is the"
    " spec's length-aware page."
)
FilterId = Annotated[int | None, Query(ge=-(2**31), le=2**31 - 1)]


@router.get(
    "",
    name="contacts.index",
    openapi_extra=route_doc(failure="list contacts"),
    responses=api_responses(
        data={"anyOf": [paginated(CONTACT), cursor_paginated(CONTACT)]}
    ),
)
async def index(
    request: Request,
    page: Page = 1,
    per_page: PerPage = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    type: Literal["lead", "customer", "guest"] | None = None,
    status_id: FilterId = None,
    source_id: FilterId = None,
    group_id: FilterId = None,
    is_opted_out: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=255, description=CURSOR_DOC)] = None,
    ctx: ApiContext = Ability("contacts.read"),
) -> Response:
    size = per_page or 15
    where = filters(
        search=search,
        type=type,
        status_id=status_id,
        source_id=source_id,
        group_id=group_id,
        is_opted_out=is_opted_out,
    )
    service = ContactService(ctx.session, ctx.workspace)
    keep = {
        "per_page": per_page,
        "search": search,
        "type": type,
        "status_id": status_id,
        "source_id": source_id,
        "group_id": group_id,
        "is_opted_out": None if is_opted_out is None else int(is_opted_out),
    }
    if cursor is not None:  # opted in to keyset pages
        records, last = await service.scan(decode_cursor(cursor), size, where)
        return success(keyset_page(records, last, path=page_path(request), keep=keep))
    items, count, total = await service.page_for_response(page, size, where)
    return success(
        paginate(
            items,
            total=total,
            page=page,
            per_page=size,
            path=page_path(request),
            keep=keep,
            count=count,
        )
    )


@router.get(
    "/{contact_id}",
    name="contacts.show",
    openapi_extra=route_doc(failure="retrieve contact", not_found=NOT_FOUND),
    responses=api_responses(data=CONTACT, not_found=NOT_FOUND),
)
async def show(contact_id: RecordId, ctx: ApiContext = Ability("contacts.read")) -> Response:
    return success(await ContactService(ctx.session, ctx.workspace).get(contact_id))


@router.post(
    "",
    name="contacts.store",
    status_code=201,
    openapi_extra=route_doc(failure="create contact", body=ContactCreate),
    responses=api_responses(201, data=CONTACT, message="Contact created successfully", body=True),
)
async def store(request: Request, ctx: ApiContext = Ability("contacts.create")) -> Response:
    record = await ContactService(ctx.session, ctx.workspace).create(await json_body(request))
    return success(record, "Contact created successfully", 201)


@router.put(
    "/{contact_id}",
    name="contacts.update",
    openapi_extra=route_doc(failure="update contact", not_found=NOT_FOUND, body=ContactUpdate),
    responses=api_responses(
        data=CONTACT, message="Contact updated successfully", not_found=NOT_FOUND, body=True
    ),
)
async def update(
    request: Request, contact_id: RecordId, ctx: ApiContext = Ability("contacts.update")
) -> Response:
    service = ContactService(ctx.session, ctx.workspace)
    record, _ = await service.update(contact_id, await json_body(request))
    return success(record, "Contact updated successfully")


@router.delete(
    "/{contact_id}",
    name="contacts.destroy",
    openapi_extra=route_doc(failure="delete contact", not_found=NOT_FOUND),
    responses=api_responses(message="Contact deleted successfully", not_found=NOT_FOUND),
)
async def destroy(contact_id: RecordId, ctx: ApiContext = Ability("contacts.delete")) -> Response:
    await ContactService(ctx.session, ctx.workspace).delete(contact_id)
    return success(message="Contact deleted successfully")
