"""Activity (owner and admin): the workspace's activity log, newest first, filtered by who
acted, the kind of change and a range of days (UTC), paginated; the query string is the
state, so every filtered view has its own address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.activity.service import ActivityService
from xobito.api.routing import DatabaseRoute
from xobito.web.deps import Member, Role
from xobito.web.lists import PER_PAGE_CHOICES, Pagination, page_params
from xobito.web.render import render

ROLE = "admin"
router = APIRouter(prefix="/{subdomain}/activity", route_class=DatabaseRoute)
ACTOR_TYPES = {"user": "Dashboard", "token": "API token", "admin": "Admin API", "cli": "CLI"}


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ActivityFilters:
    """The list's state from the query string; what does not parse is ignored."""

    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ActivityFilters:
        page, per_page = page_params(query, default_size=50)
        return cls(
            actor=(query.get("actor") or "").strip()[:255] or None,
            action=(query.get("action") or "").strip()[:64] or None,
            since=_day(query.get("since")),
            until=_day(query.get("until")),
            page=page,
            per_page=per_page,
        )

    @property
    def filtered(self) -> bool:
        return any((self.actor, self.action, self.since, self.until))


@router.get("", name="web.activity")
async def activity(request: Request, member: Member = Role(ROLE)) -> Response:
    f = ActivityFilters.from_query(request.query_params)
    service = ActivityService(member.session, member.workspace.id)
    entries, total = await service.page(
        f.page, f.per_page, actor=f.actor, action=f.action, since=f.since, until=f.until
    )
    context = {
        "entries": entries,
        "f": f,
        "pager": Pagination(f.page, f.per_page, total),
        "actors": await service.actors(),
        "actions": await service.actions(),
        "actor_types": ACTOR_TYPES,
        "per_page_choices": PER_PAGE_CHOICES,
    }
    return render(
        request,
        "activity/activity.html",
        context,
        fragment={"activity-results": "activity/_results.html"},
    )
