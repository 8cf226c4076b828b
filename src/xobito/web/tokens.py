"""Settings → API Management: a workspace's API tokens (owner and admin).

Create one with chosen abilities, rate limit, monthly quota and expiry (its plaintext is shown
once, with a copy button), list them (prefix, abilities, last use) and revoke. Everything goes
through ``TokenService``, the admin API's rules, messages and activity-log entries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.auth.abilities import ABILITIES
from xobito.auth.service import TokenService
from xobito.kit.errors import ValidationFailed
from xobito.kit.params import RecordId
from xobito.kit.time import utcnow
from xobito.models import ApiToken
from xobito.web.deps import Member, Role
from xobito.web.forms import form_data
from xobito.web.lists import Pagination, page_params
from xobito.web.render import redirect, render

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/settings/tokens", route_class=DatabaseRoute)

FIELDS = ("name", "abilities", "rate_limit_max", "monthly_quota", "expires_on")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RESOURCES = ("contacts", "statuses", "sources", "groups")
OTHER_ABILITIES = tuple(a for a in ABILITIES if a.split(".")[0] not in RESOURCES)
ABILITY_LABELS = {
    "templates.read": "Read templates",
    "templatebots.read": "Read template bots",
    "messagebots.read": "Read message bots",
    "messages.send": "Send messages",
}


def ability_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The abilities as the form offers them: one row per resource, then the rest."""
    groups = [
        (
            res.capitalize(),
            [(a, a.split(".")[1].capitalize()) for a in ABILITIES if a.startswith(res + ".")],
        )
        for res in RESOURCES
    ]
    groups.append(
        ("Templates and messages", [(a, ABILITY_LABELS.get(a, a)) for a in OTHER_ABILITIES])
    )
    return groups


def token_body(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields as the admin API's JSON body. ``expires_on`` is a date: the token
    stops working at the end of that day (UTC)."""
    body: dict[str, Any] = {"name": data.get("name")}
    if data.get("abilities"):  # none ticked: "The abilities field is required."
        body["abilities"] = data["abilities"]
    for name in ("rate_limit_max", "monthly_quota"):
        value = data.get(name)
        if value is not None:
            body[name] = int(value) if str(value).isdigit() and len(str(value)) < 12 else value
    expires = data.get("expires_on")
    if expires is not None:
        body["expires_at"] = f"{expires}T23:59:59+00:00" if _DATE.match(str(expires)) else expires
    return body


def form_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The API's field names as the form's (``abilities.3`` is the abilities group's)."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        name = key.split(".")[0]
        name = "expires_on" if name == "expires_at" else name
        out.setdefault(name, []).extend(messages)
    return out


async def _page(
    request: Request,
    member: Member,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    created: tuple[ApiToken, str] | None = None,
    status: int = 200,
) -> Response:
    page, per_page = page_params(request.query_params)
    service = TokenService(member.session)
    records, total = await service.page(member.workspace, page, per_page)
    if not records and page > 1 and total:
        page = Pagination(1, per_page, total).last_page
        records, total = await service.page(member.workspace, page, per_page)
    context = {
        "tokens": records,
        "pager": Pagination(page, per_page, total),
        "values": values or {"abilities": []},
        "errors": errors or {},
        "created": created,
        "other_errors": [m for k, ms in (errors or {}).items() if k not in FIELDS for m in ms],
        "now": utcnow(),
        "ability_groups": ability_groups(),
        "default_limit": (member.workspace.rate_limit_max, member.workspace.rate_limit_decay),
    }
    return render(
        request,
        "tokens/tokens.html",
        context,
        fragment={"token-create": "tokens/_create.html", "tokens-table": "tokens/_table.html"},
        status_code=status,
    )


@router.get("", name="web.tokens")
async def tokens(request: Request, member: Member = Role(ROLE)) -> Response:
    return await _page(request, member)


@router.post("", name="web.tokens.create")
async def create_token(request: Request, member: Member = Role(ROLE)) -> Response:
    data = await form_data(request)
    values = {**data, "abilities": data.get("abilities") or []}
    try:
        token, plaintext = await TokenService(member.session).create(
            member.workspace, token_body(data)
        )
    except ValidationFailed as exc:
        return await _page(
            request, member, values=values, errors=form_errors(exc.errors), status=422
        )
    return await _page(request, member, created=(token, plaintext), status=201)


@router.post("/{token_id}/revoke", name="web.tokens.revoke")
async def revoke_token(
    request: Request, token_id: RecordId, member: Member = Role(ROLE)
) -> Response:
    token = await TokenService(member.session).revoke(member.workspace, token_id)
    request.app.state.authenticator.tokens.clear()
    return redirect(request, member.url("/settings/tokens"), f"Token {token.name} revoked.")
