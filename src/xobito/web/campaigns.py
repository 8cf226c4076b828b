"""Campaigns: the list, and each campaign's page (progress and counters that refresh every
second while it can still change, pause / resume / cancel / retry failed, failure reasons
grouped by Meta's code, the recipients by state, the report as CSV). The create wizard is
``campaign_wizard.py``.

Everything goes through ``CampaignService`` and ``CampaignRepository`` (the API's rules and
messages). Every member reads campaigns; creating one, changing its state and downloading
the report (phone numbers of the whole audience) need an admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from xobito.api.routing import DatabaseRoute
from xobito.campaign.report import report_csv
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import RECIPIENT_STATES, STATES
from xobito.campaign.service import CampaignService
from xobito.kit.errors import Conflict
from xobito.kit.params import RecordId
from xobito.models import Campaign
from xobito.web.deps import Member, Role
from xobito.web.lists import Pagination, int_param, page_params
from xobito.web.render import redirect, render

router = APIRouter(prefix="/{subdomain}/campaigns", route_class=DatabaseRoute)

POLL_SECONDS = 1
RECIPIENTS_PER_PAGE = 50
FINISHED = ("completed", "cancelled", "failed")
STATE_BADGES = {
    "draft": "",
    "scheduled": "badge-blue",
    "running": "badge-blue",
    "paused": "badge-amber",
    "completed": "badge-green",
    "cancelled": "badge-red",
    "failed": "badge-red",
}
RECIPIENT_BADGES = {
    "pending": "",
    "claimed": "",
    "sending": "badge-blue",
    "sent": "badge-blue",
    "delivered": "badge-green",
    "read": "badge-green",
    "failed": "badge-red",
    "excluded": "badge-amber",
    "cancelled": "",
}
EXCLUSION_LABELS = {
    "opted_out": "Opted out",
    "duplicate": "Duplicate number",
    "invalid": "Invalid number",
    "missing_variable": "A variable is empty and has no fallback",
}
# (action, button label, done message, states it is offered in)
ACTIONS = (
    ("start", "Start now", "Campaign started.", ("draft",)),
    ("pause", "Pause", "Campaign paused.", ("scheduled", "running")),
    ("resume", "Resume", "Campaign resumed.", ("paused",)),
    ("retry-failed", "Retry failed", "", ("completed",)),
    ("cancel", "Cancel campaign", "Campaign cancelled.", ("draft", "scheduled", "running",
                                                          "paused")),
)


def _service(request: Request, member: Member) -> CampaignService:
    return CampaignService(member.session, member.info, request.app.state.providers)


def progress(record: Mapping[str, Any]) -> dict[str, int]:
    """How far a campaign is: recipients with an outcome (sent or failed) of those it was to
    send. Recipients a cancel took back are not done: a campaign cancelled after 3 of 10
    shows 30 %, and says how many were never sent."""
    counts = record["counts"]
    to_send = counts["total"] - counts["excluded"]
    done = counts["sent"] + counts["failed"]
    # total - excluded = sent + failed + waiting + cancelled (``fold_counts``)
    cancelled = max(0, to_send - done - counts["pending"])
    if to_send == 0:  # no recipients yet (draft, scheduled, failed to start) or all excluded
        percent = 100 if record["state"] == "completed" else 0
    else:
        percent = min(100, done * 100 // to_send)
    return {"to_send": to_send, "done": done, "percent": percent, "cancelled": cancelled}


@router.get("", name="web.campaigns")
async def campaign_list(request: Request, member: Member = Role("agent")) -> Response:
    page, per_page = page_params(request.query_params)
    state = request.query_params.get("state")
    state = state if state in STATES else None
    service = _service(request, member)
    records, total = await service.page(page, per_page, state)
    if not records and page > 1 and total:
        page = Pagination(1, per_page, total).last_page
        records, total = await service.page(page, per_page, state)
    context = {
        "campaigns": [(r, progress(r)) for r in records],
        "pager": Pagination(page, per_page, total),
        "state": state,
        "states": STATES,
        "badges": STATE_BADGES,
    }
    return render(
        request,
        "campaigns/list.html",
        context,
        fragment={"campaigns-results": "campaigns/_results.html"},
    )


async def _page_context(
    request: Request, member: Member, campaign: Campaign
) -> dict[str, Any]:
    service = _service(request, member)
    record = await service.record(campaign)
    repo = CampaignRepository(member.session, member.workspace.id)
    query = request.query_params
    chosen = query.get("recipient_state")
    chosen = chosen if chosen in RECIPIENT_STATES else None
    after = int_param(query, "after", low=0) or 0
    rows = await repo.recipients(campaign.id, [chosen] if chosen else [], after,
                                 RECIPIENTS_PER_PAGE)
    actions = [
        a for a in ACTIONS
        if record["state"] in a[3]
        and (a[0] != "retry-failed" or record["counts"]["failed"] > 0)  # nothing to retry
    ]
    return {
        "c": record,
        "progress": progress(record),
        "live": record["state"] not in FINISHED,
        "poll_seconds": POLL_SECONDS,
        "failures": await repo.failures(campaign.id),
        "recipients": rows,
        "next_after": rows[-1].id if len(rows) == RECIPIENTS_PER_PAGE else None,
        "after": after,
        "recipient_state": chosen,
        "recipient_states": RECIPIENT_STATES,
        "actions": actions,
        "buttons": ",".join(a[0] for a in actions),  # what the page's poll says it shows
        "badges": STATE_BADGES,
        "recipient_badges": RECIPIENT_BADGES,
        "exclusion_labels": EXCLUSION_LABELS,
    }


@router.get("/{campaign_id}", name="web.campaigns.show")
async def show(request: Request, campaign_id: RecordId, member: Member = Role("agent")) -> Response:
    campaign = await _service(request, member).get(campaign_id)
    context = await _page_context(request, member, campaign)
    headers = {}
    if request.headers.get("hx-target") == "campaign-status":  # the progress poll
        triggers = ["campaign-tick"]  # the recipient list follows (the last time too)
        if request.query_params.get("buttons", context["buttons"]) != context["buttons"]:
            triggers.append("campaign-buttons")  # and the buttons, once they differ
        headers["HX-Trigger"] = ", ".join(triggers)
    return render(
        request,
        "campaigns/show.html",
        context,
        fragment={
            "campaign-progress": "campaigns/_progress.html",
            "campaign-status": "campaigns/_progress.html",  # hx-select picks the text
            "campaign-actions": "campaigns/_progress.html",  # or the buttons
            "campaign-recipients": "campaigns/_recipients.html",
            "recipients-list": "campaigns/_recipients.html",  # hx-select picks the list
        },
        headers=headers,
    )


def _action(name: str, done: str) -> Any:
    async def act(
        request: Request, campaign_id: RecordId, member: Member = Role("admin")
    ) -> Response:
        service = _service(request, member)
        back = member.url(f"/campaigns/{campaign_id}")
        try:
            if name == "retry-failed":
                _, count = await service.retry_failed(campaign_id)
                message = (
                    f"{count} failed recipient{'s' if count != 1 else ''} queued again."
                    if count
                    else "No failed recipient can be retried: their failures are permanent."
                )
                return redirect(request, back, message)
            await getattr(service, name)(campaign_id)
        except Conflict as exc:
            return redirect(request, back, exc.message, "error")
        engine = getattr(request.app.state, "campaigns", None)
        if engine is not None:
            engine.wake()
        return redirect(request, back, done)

    act.__name__ = name.replace("-", "_")
    return act


for _name, _label, _done, _states in ACTIONS:
    router.add_api_route(
        f"/{{campaign_id}}/{_name}",
        _action(_name, _done),
        methods=["POST"],
        name=f"web.campaigns.{_name.replace('-', '_')}",
    )


@router.get("/{campaign_id}/report.csv", name="web.campaigns.report")
async def report(
    request: Request, campaign_id: RecordId, member: Member = Role("admin")
) -> Response:
    campaign = await _service(request, member).get(campaign_id)
    return Response(
        await report_csv(member.session, member.workspace.id, campaign.id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign.id}-report.csv"',
            "Cache-Control": "no-store",
        },
    )
