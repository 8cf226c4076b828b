"""``xobito campaign create|list|show|pause|resume|cancel|retry-failed|report``."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.campaign.repository import CampaignRepository
from xobito.campaign.service import CampaignService
from xobito.cli.common import console, run, show
from xobito.kit.multipart import FilePart
from xobito.kit.time import iso
from xobito.workspace.schemas import WorkspaceInfo
from xobito.workspace.service import WorkspaceService

app = typer.Typer(help="Campaigns: template broadcasts to an audience.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Sub = Annotated[str, typer.Argument(help="The workspace")]
CampaignId = Annotated[int, typer.Argument(help="The campaign's id")]
COLUMNS = ["id", "name", "state", "template_name", "rate_per_second", "scheduled_at"]
COUNTS = ["total", "excluded", "sent", "delivered", "read", "failed", "replied", "pending"]


async def _service(session: AsyncSession, subdomain: str) -> CampaignService:
    ws = await WorkspaceService(session).get(subdomain)
    return CampaignService(session, WorkspaceInfo.of(ws))


def _row(record: dict[str, Any]) -> dict[str, Any]:
    return {**{k: record[k] for k in COLUMNS}, **record["counts"]}


def _variables(items: list[str] | None) -> dict[str, Any]:
    """``field_1=contact:firstname:friend``, ``field_2=csv:code``, ``field_3=Hello``."""
    out: dict[str, Any] = {}
    for item in items or []:
        slot, sep, spec = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected SLOT=SOURCE, got {item!r}", param_hint="--var")
        kind, _, rest = spec.partition(":")
        if kind == "contact":
            field, _, fallback = rest.partition(":")
            out[slot] = {"type": "contact", "field": field, "fallback": fallback or None}
        elif kind == "csv":
            column, _, fallback = rest.partition(":")
            out[slot] = {"type": "csv", "column": column, "fallback": fallback or None}
        else:
            out[slot] = {"type": "constant", "value": spec.removeprefix("text:")}
    return out


@app.command("create")
def create(
    subdomain: Sub,
    name: Annotated[str, typer.Option(help="The campaign's name")],
    template: Annotated[str, typer.Option(help="Template name")],
    language: Annotated[str, typer.Option(help="Template language, e.g. en_US")] = "en_US",
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            help="SLOT=SOURCE, repeatable: field_1=contact:firstname:friend (field, fallback), "
            "field_2=csv:code, field_3=Some text",
        ),
    ] = None,
    group: Annotated[list[int] | None, typer.Option(help="Audience: group id (repeat)")] = None,
    status: Annotated[list[int] | None, typer.Option(help="Audience: status id")] = None,
    source: Annotated[list[int] | None, typer.Option(help="Audience: source id")] = None,
    contact: Annotated[list[int] | None, typer.Option(help="Audience: contact id")] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Audience: every contact")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", exists=True, help="Audience: CSV with a phone column")
    ] = None,
    csv_status: Annotated[int | None, typer.Option(help="Status of new CSV contacts")] = None,
    csv_source: Annotated[int | None, typer.Option(help="Source of new CSV contacts")] = None,
    at: Annotated[str | None, typer.Option(help="Start at (ISO 8601); default now")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA zone of --at")] = None,
    rate: Annotated[int | None, typer.Option(help="Messages per second")] = None,
    from_number: Annotated[str | None, typer.Option(help="Sending phone number id")] = None,
    header_url: Annotated[str | None, typer.Option(help="Header media URL")] = None,
    draft: Annotated[bool, typer.Option(help="Save without scheduling it")] = False,
    as_json: Json = False,
) -> None:
    """Create a campaign (sent by the workers at its time)."""
    body: dict[str, Any] = {
        "name": name,
        "template_name": template,
        "template_language": language,
        "variables": _variables(var),
        "scheduled_at": at,
        "timezone": timezone,
        "rate_per_second": rate,
        "from_phone_number_id": from_number,
        "draft": draft,
    }
    if header_url:
        for medium in ("image", "video", "document"):
            body[f"header_{medium}_url"] = header_url
    files: dict[str, FilePart] = {}
    if csv_file is not None:
        files["csv_file"] = FilePart("csv_file", csv_file.name, "text/csv", csv_file.read_bytes())
        body["csv_status_id"], body["csv_source_id"] = csv_status, csv_source
    else:
        audience: dict[str, Any] = {
            "group_ids": group, "status_ids": status, "source_ids": source,
            "contact_ids": contact, "all": everyone or None,
        }
        body["audience"] = {k: v for k, v in audience.items() if v}
    body = {k: v for k, v in body.items() if v is not None}

    async def work(session: AsyncSession) -> dict[str, Any]:
        service = await _service(session, subdomain)
        return await service.record(await service.create(body, files))

    record = run(work)
    if as_json:
        console.print_json(json.dumps(record))
    else:
        show([_row(record)], COLUMNS + COUNTS, False)
        for reason, count in (record.get("csv") or {}).items():
            if reason != "errors":
                console.print(f"csv {reason}: {count}")


@app.command("list")
def list_(
    subdomain: Sub,
    state: Annotated[str | None, typer.Option(help="Only campaigns in this state")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    as_json: Json = False,
) -> None:
    """The workspace's campaigns, newest first, with their counts."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        items, _ = await (await _service(session, subdomain)).page(page, 50, state)
        return items

    records = run(work)
    if as_json:
        console.print_json(json.dumps(records))
    else:
        show([_row(r) for r in records], COLUMNS + COUNTS, False)


@app.command("show")
def show_(subdomain: Sub, campaign_id: CampaignId, as_json: Json = False) -> None:
    """One campaign: state, counts, exclusions, failures by Meta code."""

    async def work(session: AsyncSession) -> dict[str, Any]:
        service = await _service(session, subdomain)
        campaign = await service.get(campaign_id)
        record = await service.record(campaign)
        failures = await CampaignRepository(session, campaign.workspace_id).failures(campaign.id)
        record["failures"] = [
            {"error_code": c, "error_message": m, "count": n} for c, m, n in failures
        ]
        return record

    record = run(work)
    if as_json:
        console.print_json(json.dumps(record))
        return
    show([_row(record)], COLUMNS + COUNTS, False)
    if record["reason"]:
        console.print(f"reason: {record['reason']}")
    console.print("excluded: " + ", ".join(f"{k} {v}" for k, v in record["exclusions"].items()))
    if record["failures"]:
        show(record["failures"], ["error_code", "error_message", "count"], False)


def _action(name: str) -> Any:
    def command(subdomain: Sub, campaign_id: CampaignId, as_json: Json = False) -> None:
        async def work(session: AsyncSession) -> dict[str, Any]:
            service = await _service(session, subdomain)
            if name == "retry-failed":
                campaign, count = await service.retry_failed(campaign_id)
                return {**await service.record(campaign), "retried": count}
            return await service.record(await getattr(service, name)(campaign_id))

        record = run(work)
        if as_json:
            console.print_json(json.dumps(record))
        else:
            show([_row(record)], COLUMNS + COUNTS, False)

    command.__doc__ = {
        "start": "Schedule a draft campaign.",
        "pause": "Pause a running or scheduled campaign.",
        "resume": "Resume a paused campaign.",
        "cancel": "Cancel a campaign: nobody still waiting is sent anything.",
        "retry-failed": "Send the retryable failures of a completed campaign again.",
    }[name]
    return command


for _name in ("start", "pause", "resume", "cancel", "retry-failed"):
    app.command(_name)(_action(_name))


@app.command("report")
def report(
    subdomain: Sub,
    campaign_id: CampaignId,
    output: Annotated[Path | None, typer.Option("-o", help="File (default: stdout)")] = None,
) -> None:
    """Every recipient's result as CSV."""

    async def work(session: AsyncSession) -> list[list[Any]]:
        service = await _service(session, subdomain)
        campaign = await service.get(campaign_id)
        rows: list[list[Any]] = []
        async for batch in CampaignRepository(session, campaign.workspace_id).all_recipients(
            campaign.id
        ):
            rows += [
                [r.id, r.contact_id, r.phone, r.state, r.wamid, r.error_code, r.error_message,
                 iso(r.sent_at), iso(r.delivered_at), iso(r.read_at), iso(r.failed_at),
                 iso(r.replied_at)]
                for r in batch
            ]
        return rows

    rows = run(work)
    out = output.open("w", newline="") if output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["recipient_id", "contact_id", "phone", "state", "message_id",
                         "error_code", "error_message", "sent_at", "delivered_at", "read_at",
                         "failed_at", "replied_at"])
        writer.writerows(rows)
    finally:
        if output:
            out.close()
