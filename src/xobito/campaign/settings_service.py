"""Per-workspace campaign settings: the pacing of each sending number, and opt-out keywords
with their confirmations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xobito.activity.recorder import note
from xobito.campaign.optout import DEFAULT_START, DEFAULT_STOP, STOP_REPLY, normalise_keyword
from xobito.campaign.repository import CampaignRepository
from xobito.campaign.schemas import NumberIn, OptOutIn
from xobito.campaign.service import number_limits
from xobito.connection.service import ConnectionService
from xobito.kit.errors import NotFound, ValidationFailed
from xobito.kit.validation import merge, parse
from xobito.models import OptOutSetting, SendingNumber
from xobito.workspace.schemas import WorkspaceInfo

NUMBER_NOT_FOUND = "Phone number not found"


def number_record(phone_number_id: str, number: SendingNumber | None) -> dict[str, Any]:
    coexistence = bool(number and number.coexistence)
    default, maximum = number_limits(coexistence)
    return {
        "phone_number_id": phone_number_id,
        "rate_per_second": number.rate_per_second if number else default,
        "max_rate_per_second": maximum,
        "coexistence": int(coexistence),
    }


def opt_out_record(setting: OptOutSetting | None) -> dict[str, Any]:
    if setting is None:
        return {
            "enabled": 1,
            "stop_keywords": list(DEFAULT_STOP),
            "start_keywords": list(DEFAULT_START),
            "stop_reply": STOP_REPLY,
            "start_reply": None,
        }
    return {
        "enabled": int(setting.enabled),
        "stop_keywords": list(setting.stop_keywords),
        "start_keywords": list(setting.start_keywords),
        "stop_reply": setting.stop_reply,
        "start_reply": setting.start_reply,
    }


class CampaignSettings:
    def __init__(self, session: AsyncSession, workspace: WorkspaceInfo) -> None:
        self.session = session
        self.workspace = workspace
        self.repo = CampaignRepository(session, workspace.id)

    async def _check_number(self, phone_number_id: str) -> None:
        link = await ConnectionService(self.session).link(self.workspace.id)
        if link is None or phone_number_id not in link.phone_number_ids:
            raise NotFound(NUMBER_NOT_FOUND)

    async def number(self, phone_number_id: str) -> dict[str, Any]:
        await self._check_number(phone_number_id)
        return number_record(phone_number_id, await self.repo.number(phone_number_id))

    async def set_number(self, phone_number_id: str, raw: Any) -> dict[str, Any]:
        await self._check_number(phone_number_id)
        data, errors, values = parse(NumberIn, raw)
        number = await self.repo.number(phone_number_id)
        coexistence = values.get("coexistence")
        if coexistence is None:
            coexistence = bool(number and number.coexistence)
        default, maximum = number_limits(coexistence)
        rate = values.get("rate_per_second")
        if rate is not None and rate > maximum:
            errors["rate_per_second"] = [f"The rate per second may not be greater than {maximum}."]
        if errors or data is None:
            raise ValidationFailed(merge(NumberIn, errors))
        if number is None:
            number = SendingNumber(
                workspace_id=self.workspace.id, phone_number_id=phone_number_id,
                rate_per_second=default, coexistence=coexistence,
            )
            self.session.add(number)
        number.coexistence = coexistence
        number.rate_per_second = min(rate or number.rate_per_second or default, maximum)
        await self.session.flush()
        note(self.workspace.id, "campaign.number_updated",
             f"Campaign rate of {phone_number_id}: {number.rate_per_second}/s",
             "phone_number", phone_number_id)
        return number_record(phone_number_id, number)

    async def opt_out(self) -> dict[str, Any]:
        return opt_out_record(await self.repo.opt_out())

    async def set_opt_out(self, raw: Any) -> dict[str, Any]:
        data, errors, values = parse(OptOutIn, raw)
        if errors or data is None:
            raise ValidationFailed(merge(OptOutIn, errors))
        setting = await self.repo.opt_out()
        if setting is None:
            current = opt_out_record(None)
            setting = OptOutSetting(
                workspace_id=self.workspace.id,
                enabled=True,
                stop_keywords=current["stop_keywords"],
                start_keywords=current["start_keywords"],
                stop_reply=current["stop_reply"],
                start_reply=None,
            )
            self.session.add(setting)
        for key in ("stop_keywords", "start_keywords"):
            if key in values and values[key] is not None:
                words = list(dict.fromkeys(w.strip() for w in values[key] if w.strip()))
                setattr(setting, key, words)
        if "enabled" in values and values["enabled"] is not None:
            setting.enabled = values["enabled"]
        for key in ("stop_reply", "start_reply"):
            if key in values:
                setattr(setting, key, values[key])
        stops = {normalise_keyword(w) for w in setting.stop_keywords}
        both = [w for w in setting.start_keywords if normalise_keyword(w) in stops]
        if both:
            raise ValidationFailed(
                {"start_keywords": [f"The keyword {both[0]} is also a stop keyword."]}
            )
        await self.session.flush()
        note(self.workspace.id, "campaign.opt_out_updated", "Updated opt-out keywords",
             "workspace", self.workspace.id)
        return opt_out_record(setting)
