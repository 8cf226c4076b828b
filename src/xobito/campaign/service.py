"""Campaign rules: creation (template, variables, audience, CSV, schedule, rate), reads,
and the state changes a person asks for (start, pause, resume, cancel, retry failed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.campaign import events, variables
from xobito.campaign.csv_audience import read_csv
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import CampaignIn, campaign_record
from xobito.connection.service import NOT_CONNECTED, ConnectionService
from xobito.contact.csv_rows import Record, Start
from xobito.contact.importing import ContactImporter
from xobito.contact.repository import ContactRepository
from xobito.kit.errors import Conflict, NotFound, ValidationFailed
from xobito.kit.multipart import FilePart
from xobito.kit.time import utcnow
from xobito.kit.validation import Errors, merge, parse
from xobito.label.repository import GroupRepository, SourceRepository, StatusRepository
from xobito.message.templating import MEDIA_FORMATS, NOT_AVAILABLE
from xobito.message.uploads import check_header_file
from xobito.models import Campaign
from xobito.template.repository import TemplateRepository
from xobito.whatsapp.base import WhatsAppProvider
from xobito.workspace.schemas import WorkspaceInfo

NOT_FOUND = "Campaign not found"
DEFAULT_RATE = 80
MAX_RATE = 1000
COEXISTENCE_RATE = 20
_ZONES = available_timezones()


def number_limits(coexistence: bool) -> tuple[int, int]:
    """(default, maximum) messages per second of a sending number."""
    return (COEXISTENCE_RATE, COEXISTENCE_RATE) if coexistence else (DEFAULT_RATE, MAX_RATE)


def parse_schedule(
    raw: str | None, zone: str | None, errors: Errors, now: datetime
) -> tuple[datetime | None, str]:
    """``scheduled_at`` (ISO 8601; a time without offset is read in ``timezone``) in UTC."""
    name = zone or "UTC"
    if name not in _ZONES:
        errors["timezone"] = ["The timezone must be a valid zone."]
        return None, name
    if raw is None:
        return None, name
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors["scheduled_at"] = ["The scheduled at is not a valid date."]
        return None, name
    try:
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(name))
    except ZoneInfoNotFoundError:
        errors["timezone"] = ["The timezone must be a valid zone."]
        return None, name
    if when < now:
        errors["scheduled_at"] = ["The scheduled at must be a date after now."]
    return when, name


def _form_json(raw: Any, key: str, errors: Errors) -> Any:
    """Multipart bodies carry ``variables`` and ``audience`` as JSON text."""
    value = raw.get(key)
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            errors[key] = [f"The {key} must be valid JSON."]
            return None
    return value


class CampaignService:
    def __init__(
        self,
        session: AsyncSession,
        workspace: WorkspaceInfo,
        providers: dict[str, WhatsAppProvider] | None = None,
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.providers = providers or {}
        self.repo = CampaignRepository(session, workspace.id)

    # ---- reads -----------------------------------------------------------------------------

    async def get(self, campaign_id: int, *, lock: bool = False) -> Campaign:
        found = await (self.repo.get_locked(campaign_id) if lock else self.repo.get(campaign_id))
        if found is None:
            raise NotFound(NOT_FOUND)
        return found

    async def record(self, campaign: Campaign) -> dict[str, Any]:
        counts = await self.repo.counts([campaign])
        return campaign_record(campaign, counts[campaign.id])

    async def page(
        self, page: int, per_page: int, state: str | None
    ) -> tuple[list[dict[str, Any]], int]:
        rows, total = await self.repo.listing(page, per_page, state)
        counts = await self.repo.counts(rows)
        return [campaign_record(c, counts[c.id]) for c in rows], total

    # ---- create ----------------------------------------------------------------------------

    async def create(
        self,
        raw: Any,
        files: dict[str, FilePart] | None = None,
        *,
        token_id: int | None = None,
        user_id: int | None = None,
    ) -> Campaign:
        files = files or {}
        errors: Errors = {}
        if isinstance(raw, dict):
            raw = dict(raw)
            for key in ("variables", "audience"):
                raw[key] = _form_json(raw, key, errors)
            for key in ("variables", "audience"):
                if raw[key] is None:
                    raw.pop(key)
        data, parsed, values = parse(CampaignIn, raw)
        errors = merge(CampaignIn, parsed, errors)
        now = utcnow()
        specs = variables.normalise(values.get("variables"), errors)
        template = None
        if "template_name" in values and "template_language" in values:
            template = await TemplateRepository(self.session, self.workspace.id).by_name(
                values["template_name"], values["template_language"]
            )
            if template is None or template.status != "APPROVED":
                errors.setdefault("template_name", []).append(NOT_AVAILABLE)
                template = None
        if template is not None and not any(k.startswith("variables") for k in errors):
            variables.check_against(template, specs, errors)
        when, zone = parse_schedule(values.get("scheduled_at"), values.get("timezone"), errors, now)
        audience = values.get("audience")
        csv_part = files.get("csv_file")
        if audience is None and csv_part is None and "audience" not in errors:
            errors["audience"] = ["The audience field is required when csv file is not present."]
        if audience is not None and csv_part is not None:
            errors["audience"] = ["The audience field prohibits csv file from being present."]
        if audience is not None:
            await self._check_audience(audience.model_dump(exclude_none=True), errors)
        for key, repo in (
            ("csv_status_id", StatusRepository(self.session, self.workspace.id)),
            ("csv_source_id", SourceRepository(self.session, self.workspace.id)),
        ):
            given = values.get(key)
            if given is not None and not await repo.existing_ids([given]):
                errors[key] = [f"The selected {key.replace('_', ' ')} is invalid."]
        if csv_part is not None:
            for key in ("csv_status_id", "csv_source_id"):
                if values.get(key) is None and key not in errors:
                    errors[key] = [
                        f"The {key.replace('_', ' ')} field is required when csv file is present."
                    ]
        csv_columns = variables.csv_columns(specs)
        if csv_columns and csv_part is None:
            errors["variables"] = ["CSV column variables need a csv file."]
        upload = None
        header: dict[str, str] | None = None
        if template is not None:
            medium = MEDIA_FORMATS.get(template.header_data_format or "")
            if medium:
                part = files.get(f"header_{medium}_file")
                url = values.get(f"header_{medium}_url")
                if part is not None:
                    upload = check_header_file(part, medium, errors)
                elif url is None:
                    errors[f"header_{medium}_url"] = [
                        f"The header {medium} url or header {medium} file is required by "
                        "this template."
                    ]
                else:
                    header = {"type": medium, "link": url}
                    name = values.get("header_document_name")
                    if medium == "document" and name:
                        header["filename"] = name
        link = await ConnectionService(self.session).link(
            self.workspace.id, values.get("from_phone_number_id")
        )
        if link is None:
            errors["whatsapp"] = [NOT_CONNECTED]
        elif (
            values.get("from_phone_number_id")
            and values["from_phone_number_id"] not in link.phone_number_ids
        ):
            errors["from_phone_number_id"] = ["The selected from phone number id is invalid."]
        rate = values.get("rate_per_second")
        if link is not None:
            number = await self.repo.number(link.info.phone_number_id)
            coexistence = bool(number and number.coexistence)
            default, maximum = number_limits(coexistence)
            if number is not None:  # the number's own rate is its campaigns' ceiling
                default = maximum = number.rate_per_second
            else:
                maximum = default
            if rate is not None and rate > maximum:
                errors["rate_per_second"] = [
                    f"The rate per second may not be greater than {maximum}."
                ]
            rate = rate or default
        csv_rows = None
        report = None
        if csv_part is not None:
            parsed_csv, problem = read_csv(csv_part.data, csv_columns)
            if problem is not None:
                errors["csv_file"] = [problem]
            elif parsed_csv is not None and not errors:
                csv_rows, report = await self._csv_contacts(parsed_csv, values)
        if errors or data is None or template is None or link is None:
            raise ValidationFailed(merge(CampaignIn, errors))
        if upload is not None:
            provider = self.providers[link.provider]
            medium = MEDIA_FORMATS[template.header_data_format or ""]
            media_id = await provider.upload_media(
                link.info, upload.data, upload.mime_type, upload.filename
            )
            header = {"type": medium, "id": media_id}
            if medium == "document" and data.header_document_name:
                header["filename"] = data.header_document_name
        campaign = Campaign(
            workspace_id=self.workspace.id,
            name=data.name,
            state="draft" if data.draft else "scheduled",
            template_name=template.template_name,
            template_language=template.language,
            phone_number_id=link.info.phone_number_id,
            header=header,
            variables=specs,
            audience=audience.model_dump(exclude_none=True) if audience is not None else {},
            csv_rows=csv_rows,
            csv_report=report,
            scheduled_at=when or now,
            timezone=zone,
            rate_per_second=int(rate or DEFAULT_RATE),
            exclusions={},
            token_id=token_id,
            user_id=user_id,
        )
        self.session.add(campaign)
        await self.session.flush()
        note(self.workspace.id, "campaign.created", f"Created campaign {campaign.name}",
             "campaign", campaign.id)
        return campaign

    async def _check_audience(self, audience: dict[str, Any], errors: Errors) -> None:
        ws = self.workspace.id
        for key, repo in (
            ("group_ids", GroupRepository(self.session, ws)),
            ("status_ids", StatusRepository(self.session, ws)),
            ("source_ids", SourceRepository(self.session, ws)),
            ("contact_ids", ContactRepository(self.session, ws)),
        ):
            ids = audience.get(key) or []
            found = await repo.existing_ids(ids) if ids else set()
            for i, given in enumerate(ids):
                if given not in found:
                    errors[f"audience.{key}.{i}"] = [
                        f"The selected audience.{key.replace('_', ' ')}.{i} is invalid."
                    ]
        if not any(audience.get(k) for k in ("group_ids", "status_ids", "source_ids", "types",
                                              "contact_ids", "all")):
            errors.setdefault("audience", []).append(
                "The audience must name groups, statuses, sources, types, contact ids or all."
            )

    async def _csv_contacts(
        self, parsed: Any, values: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Contacts for the CSV's valid numbers that have none (with the chosen status and
        source, within the plan limit); rows refused here are reported with the bad ones."""
        contacts = ContactRepository(self.session, self.workspace.id)
        valid = [r for r in parsed.rows if r.valid]
        known = set()
        for i in range(0, len(valid), 1000):
            chunk = {r.phone for r in valid[i : i + 1000]}
            known |= set((await contacts.by_phones(chunk)).keys())
        new: dict[str, Any] = {}
        for r in valid:
            if r.phone not in known and r.phone not in new:
                new[r.phone] = r
        refused: set[str] = set()
        importer = ContactImporter(self.workspace)
        records = [
            Record(
                r.line,
                {
                    "phone": r.phone,
                    "firstname": r.values.get("firstname") or r.phone,
                    "type": "lead",
                    "status_id": values.get("csv_status_id"),
                    "source_id": values.get("csv_source_id"),
                },
                Start(0, r.line),
            )
            for r in new.values()
        ]
        for i in range(0, len(records), 1000):
            result = await importer.write(self.session, records[i : i + 1000])
            for error in result.errors:
                parsed.bad(error.line, error.message)
                refused.add(new_phone(records, error.line))
        rows = [
            [r.phone, {k: v for k, v in r.values.items() if k != "firstname"} or None]
            for r in parsed.rows
            if r.phone not in refused
        ]
        parsed.rows = [r for r in parsed.rows if r.phone not in refused]
        return rows, parsed.report()

    # ---- state changes ---------------------------------------------------------------------

    async def start(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id, lock=True)
        if campaign.state != "draft":
            raise Conflict(f"A {campaign.state} campaign cannot be started.")
        campaign.state = "scheduled"
        if campaign.scheduled_at is None or campaign.scheduled_at < utcnow():
            campaign.scheduled_at = utcnow()
        return campaign

    async def pause(self, campaign_id: int, reason: str | None = None) -> Campaign:
        campaign = await self.get(campaign_id, lock=True)
        if campaign.state not in ("running", "scheduled"):
            raise Conflict(f"A {campaign.state} campaign cannot be paused.")
        was_running = campaign.state == "running"
        campaign.state = "paused"
        campaign.reason = reason or "Paused by a person."
        if was_running:
            await self.repo.set_waiting(campaign.id, ("claimed",), {"state": "pending",
                                                                    "worker_id": None})
            await events.emit_state(self.session, campaign, "campaign.paused",
                                    await self.record(campaign))
        return campaign

    async def resume(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id, lock=True)
        if campaign.state != "paused":
            raise Conflict(f"A {campaign.state} campaign cannot be resumed.")
        campaign.state = "running" if campaign.started_at is not None else "scheduled"
        campaign.reason = None
        return campaign

    async def cancel(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id, lock=True)
        if campaign.state in ("completed", "cancelled", "failed"):
            raise Conflict(f"A {campaign.state} campaign cannot be cancelled.")
        now = utcnow()
        campaign.state = "cancelled"
        campaign.cancelled_at = now
        await self.repo.set_waiting(
            campaign.id, ("pending", "claimed"), {"state": "cancelled", "worker_id": None,
                                                  "updated_at": now}
        )
        return campaign

    async def retry_failed(self, campaign_id: int) -> tuple[Campaign, int]:
        campaign = await self.get(campaign_id, lock=True)
        if campaign.state != "completed":
            raise Conflict("Only a completed campaign can retry its failed recipients.")
        count = await self.repo.retry_failed(campaign.id, utcnow())
        if count:
            campaign.state = "running"
            campaign.completed_at = None
        return campaign, count


def new_phone(records: list[Record], line: int) -> str:
    for record in records:
        if record.line == line:
            return str(record.values["phone"])
    return ""
