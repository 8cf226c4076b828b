"""Campaign endpoints (beyond Xobito's v1) as operations both clients use."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from xobito_client._core import Operation
from xobito_client._operations import _present, data_of, file_part, page_of
from xobito_client.models import Campaign, RecipientPage
from xobito_client.types import FileInput

Action = Literal["start", "pause", "resume", "cancel", "retry-failed"]
_page = page_of(Campaign)
_one = data_of(Campaign)


def create(
    body: Mapping[str, Any], csv_file: FileInput | None, idempotency_key: str | None
) -> Operation[Campaign]:
    """``body``: ``name``, ``template_name``, ``template_language``, ``variables``,
    ``audience`` (or ``csv_file``), ``scheduled_at``, ``timezone``, ``rate_per_second``..."""
    fields = _present(dict(body))
    if csv_file is None:
        return Operation("POST", "/campaigns", _one, json=fields, idempotency_key=idempotency_key)
    form = {
        k: json.dumps(v) if isinstance(v, Mapping | list) else _text(v)
        for k, v in fields.items()
    }
    files = [file_part("csv_file", csv_file)]
    return Operation(
        "POST", "/campaigns", _one, data=form, files=files, idempotency_key=idempotency_key
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def listing(page: int | None, per_page: int | None, state: str | None) -> Operation[Any]:
    return Operation(
        "GET", "/campaigns", _page, params={"page": page, "per_page": per_page, "state": state}
    )


def get(campaign_id: int) -> Operation[Campaign]:
    return Operation("GET", f"/campaigns/{int(campaign_id)}", _one)


def act(campaign_id: int, action: Action) -> Operation[Campaign]:
    return Operation("POST", f"/campaigns/{int(campaign_id)}/{action}", _one)


def delete(campaign_id: int) -> Operation[None]:
    return Operation("DELETE", f"/campaigns/{int(campaign_id)}", lambda body: None)


def recipients(
    campaign_id: int, states: Sequence[str] | None, cursor: str | None, per_page: int | None
) -> Operation[RecipientPage]:
    params: dict[str, Any] = {"cursor": cursor, "per_page": per_page}
    if states:
        params["state"] = list(states)
    return Operation(
        "GET", f"/campaigns/{int(campaign_id)}/recipients", data_of(RecipientPage), params=params
    )


def report(campaign_id: int) -> Operation[str]:
    return Operation("GET", f"/campaigns/{int(campaign_id)}/report.csv", lambda body: str(body))
