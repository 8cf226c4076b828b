"""Contacts: the list (search, filters, sort, pages, bulk actions), create, edit, delete.

Every change goes through ``ContactService`` (the API's rules, messages and webhooks). Agents
read and edit; creating and deleting need an admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.contact.listing import SORTS, filters
from xobito.contact.service import ContactService
from xobito.kit.errors import Forbidden, ValidationFailed
from xobito.kit.params import RecordId
from xobito.label.service import GROUPS, SOURCES, STATUSES, LabelService
from xobito.web.deps import Member, Role, role_needed
from xobito.web.forms import form_data
from xobito.web.lists import PER_PAGE_CHOICES, Pagination, int_param, page_params
from xobito.web.render import redirect, render, safe_back

router = APIRouter(prefix="/{subdomain}/contacts", route_class=DatabaseRoute)

TYPES = (("lead", "Lead"), ("customer", "Customer"), ("guest", "Guest"))
# The form's fields, in the order the API reports errors; others show above the form.
FORM_FIELDS = (
    "firstname",
    "lastname",
    "phone",
    "email",
    "type",
    "status_id",
    "source_id",
    "groups",
    "company",
    "website",
    "address",
    "city",
    "state",
    "zip",
    "description",
)
LABEL_CHOICES_LIMIT = 1000  # statuses/sources/groups offered in filters and forms


@dataclass(frozen=True, slots=True)
class ContactFilters:
    """The list's state, parsed from the query string; a value that does not parse is
    ignored (the unfiltered list), so no URL leads to an error page."""

    search: str | None = None
    status_id: int | None = None
    source_id: int | None = None
    group_id: int | None = None
    type: str | None = None
    opted_out: bool | None = None
    sort: str = "name"
    page: int = 1
    per_page: int = 25

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ContactFilters:
        page, per_page = page_params(query)
        search = (query.get("search") or "").strip()[:255] or None
        sort = query.get("sort") or "name"
        opted = query.get("opted_out")
        kind = query.get("type")
        return cls(
            search=search,
            status_id=int_param(query, "status_id"),
            source_id=int_param(query, "source_id"),
            group_id=int_param(query, "group_id"),
            type=kind if kind in dict(TYPES) else None,
            opted_out={"1": True, "0": False}.get(opted or ""),
            sort=sort if sort.lstrip("-") in SORTS else "name",
            page=page,
            per_page=per_page,
        )

    def where(self) -> dict[str, Any]:
        return filters(
            search=self.search,
            type=self.type,
            status_id=self.status_id,
            source_id=self.source_id,
            group_id=self.group_id,
            is_opted_out=self.opted_out,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.where())

    def sort_link(self, column: str) -> str:
        """The ``sort`` value a column header links to: ascending first, then toggling."""
        return f"-{column}" if self.sort == column else column

    def sort_state(self, column: str) -> str | None:
        if self.sort.lstrip("-") != column:
            return None
        return "descending" if self.sort.startswith("-") else "ascending"


@dataclass(frozen=True, slots=True)
class Labels:
    """The workspace's statuses, sources and groups by id, each sorted by name."""

    statuses: dict[int, Any]
    sources: dict[int, Any]
    groups: dict[int, Any]

    @staticmethod
    def options(items: dict[int, Any]) -> list[tuple[int, str]]:
        return [(i, item.name) for i, item in items.items()]


async def labels(member: Member) -> Labels:
    async def load(kind: Any) -> dict[int, Any]:
        service = LabelService(kind, member.session, member.workspace.id)
        items, _ = await service.page(1, LABEL_CHOICES_LIMIT)
        return {item.id: item for item in sorted(items, key=lambda i: i.name.lower())}

    return Labels(await load(STATUSES), await load(SOURCES), await load(GROUPS))


@router.get("", name="web.contacts")
async def contact_list(request: Request, member: Member = Role("agent")) -> Response:
    f = ContactFilters.from_query(request.query_params)
    service = ContactService(member.session, member.info)
    records, total = await service.page(f.page, f.per_page, f.where(), f.sort)
    if not records and f.page > 1 and total:
        # Past the last page (rows were deleted): show the last one instead.
        f = replace(f, page=Pagination(1, f.per_page, total).last_page)
        records, total = await service.page(f.page, f.per_page, f.where(), f.sort)
    context = {
        "contacts": records,
        "f": f,
        "pager": Pagination(f.page, f.per_page, total),
        "labels": await labels(member),
        "types": TYPES,
        "per_page_choices": PER_PAGE_CHOICES,
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    return render(
        request,
        "contacts/list.html",
        context,
        fragment={"contacts-results": "contacts/_results.html"},
    )


def _form_page(
    request: Request,
    member: Member,
    lbls: Labels,
    *,
    values: Mapping[str, Any],
    errors: Mapping[str, list[str]] | None = None,
    contact: dict[str, Any] | None = None,
    back: str,
    status: int = 200,
    problem: str | None = None,
) -> Response:
    errors = dict(errors or {})
    context = {
        "values": values,
        "errors": errors,
        "other_errors": [m for k, ms in errors.items() if k not in FORM_FIELDS for m in ms],
        "problem": problem,
        "contact": contact,
        "labels": lbls,
        "types": TYPES[:2],
        "back": back,
    }
    return render(
        request, "contacts/form.html", context, fragment="contacts/_form.html", status_code=status
    )


def _group_names(record: dict[str, Any], lbls: Labels) -> str:
    return ", ".join(lbls.groups[g].name for g in record["group_id"] if g in lbls.groups)


@router.get("/new", name="web.contacts.new")
async def new_contact(request: Request, member: Member = Role("admin")) -> Response:
    lbls = await labels(member)
    default_status = next((s.id for s in lbls.statuses.values() if s.isdefault), None)
    back = safe_back(request.query_params.get("back"), member.url("/contacts"))
    values = {"type": "lead", "status_id": default_status}
    return _form_page(request, member, lbls, values=values, back=back)


@router.post("", name="web.contacts.create")
async def create_contact(request: Request, member: Member = Role("admin")) -> Response:
    data = await form_data(request)
    back = safe_back(data.pop("back", None), member.url("/contacts"))
    try:
        record = await ContactService(member.session, member.info).create(data)
    except ValidationFailed as exc:
        lbls = await labels(member)
        return _form_page(
            request, member, lbls, values=data, errors=exc.errors, back=back, status=422
        )
    except Forbidden as exc:  # the plan's contact limit
        lbls = await labels(member)
        return _form_page(
            request, member, lbls, values=data, back=back, status=403, problem=exc.message
        )
    name = " ".join(p for p in (record["firstname"], record["lastname"]) if p)
    return redirect(request, back, f"Contact {name} created.")


@router.post("/bulk", name="web.contacts.bulk")
async def bulk(request: Request, member: Member = Role("agent")) -> Response:
    data = await form_data(request)
    back = safe_back(data.get("back"), member.url("/contacts"))
    ids = [int(i) for i in data.get("ids") or [] if str(i).isdigit() and int(i) < 2**31][:100]
    service = ContactService(member.session, member.info)
    action = data.get("action")
    if not ids:
        return redirect(request, back, "Choose at least one contact first.", "error")
    if action == "delete":
        if not member.can("admin"):
            raise Forbidden(role_needed("admin"))
        count = await service.delete_many(ids)
        return redirect(request, back, f"Deleted {count} contact{'s' if count != 1 else ''}.")
    if action == "add_to_group":
        name = data.get("group")
        try:
            count = await service.add_to_group(ids, name if isinstance(name, str) else "")
        except ValidationFailed as exc:
            message = " ".join(m for ms in exc.errors.values() for m in ms)
            return redirect(request, back, message.replace("groups", "group"), "error")
        noun = "contact" if count == 1 else "contacts"
        return redirect(request, back, f"Added {count} {noun} to {name}.")
    return redirect(request, back, "Choose an action.", "error")


@router.get("/{contact_id}", name="web.contacts.edit")
async def edit_contact(
    request: Request, contact_id: RecordId, member: Member = Role("agent")
) -> Response:
    record = await ContactService(member.session, member.info).get(contact_id)
    lbls = await labels(member)
    values = dict(record) | {"groups": _group_names(record, lbls)}
    if values["type"] == "guest":
        values["type"] = "lead"  # writes accept lead or customer (docs/api/contacts.md)
    back = safe_back(request.query_params.get("back"), member.url("/contacts"))
    return _form_page(request, member, lbls, values=values, contact=record, back=back)


@router.post("/{contact_id}", name="web.contacts.update")
async def update_contact(
    request: Request, contact_id: RecordId, member: Member = Role("agent")
) -> Response:
    service = ContactService(member.session, member.info)
    record = await service.get(contact_id)  # 404 before anything else
    data = await form_data(request)
    back = safe_back(data.pop("back", None), member.url("/contacts"))
    try:
        after, _ = await service.update(contact_id, data)
    except ValidationFailed as exc:
        lbls = await labels(member)
        return _form_page(
            request,
            member,
            lbls,
            values=data,
            errors=exc.errors,
            contact=record,
            back=back,
            status=422,
        )
    name = " ".join(p for p in (after["firstname"], after["lastname"]) if p)
    return redirect(request, back, f"Contact {name} saved.")


@router.post("/{contact_id}/delete", name="web.contacts.delete")
async def delete_contact(
    request: Request, contact_id: RecordId, member: Member = Role("admin")
) -> Response:
    record = await ContactService(member.session, member.info).delete(contact_id)
    data = await form_data(request)
    back = safe_back(data.get("back"), member.url("/contacts"))
    name = " ".join(p for p in (record["firstname"], record["lastname"]) if p)
    return redirect(request, back, f"Contact {name} deleted.")
