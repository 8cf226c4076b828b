"""The connect body and the connection record (secrets never included)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from xobito.kit.time import iso
from xobito.kit.validation import Errors, Len, RequestModel
from xobito.models import WhatsAppConnection

_META_ID = re.compile(r"^\d{1,64}$")


def _meta_id(value: str) -> str:
    if not _META_ID.match(value):
        raise PydanticCustomError("format", "format")
    return value


MetaId = Annotated[str, AfterValidator(_meta_id), Field(json_schema_extra={"pattern": r"^\d+$"})]
Secret = Annotated[str, Len(max=1000)]


class ConnectIn(RequestModel):
    provider: Literal["sandbox", "cloud"]
    waba_id: MetaId | None = None
    phone_number_ids: Annotated[list[MetaId], Field(min_length=1, max_length=20)] | None = None
    primary_phone_number_id: MetaId | None = None
    access_token: Secret | None = None
    app_secret: Annotated[str, Len(max=255)] | None = None
    verify_token: Annotated[str, Len(max=255)] | None = None
    # The Meta app whose webhook subscription the doctor looks for (optional).
    app_id: MetaId | None = None


CLOUD_NEEDS = ("waba_id", "phone_number_ids", "access_token", "app_secret")


def connect_rules(raw: Any, values: dict[str, Any]) -> Errors:
    """Cross-field rules of ``ConnectIn``, reported together with every other failing field."""
    given: dict[str, Any] = raw if isinstance(raw, dict) else {}
    errors: Errors = {}
    if values.get("provider") != "cloud":
        return errors
    for name in CLOUD_NEEDS:
        if given.get(name) is None:
            attr = name.replace("_", " ")
            errors[name] = [f"The {attr} field is required when provider is cloud."]
    primary = values.get("primary_phone_number_id")
    ids = values.get("phone_number_ids")
    if primary is not None and ids is not None and primary not in ids:
        errors["primary_phone_number_id"] = ["The selected primary phone number id is invalid."]
    return errors


def connection_record(conn: WhatsAppConnection) -> dict[str, Any]:
    return {
        "tenant_id": conn.workspace_id,
        "provider": conn.provider,
        "waba_id": conn.waba_id,
        "phone_number_ids": list(conn.phone_number_ids),
        "primary_phone_number_id": conn.primary_phone_number_id,
        "has_access_token": int(bool(conn.access_token)),
        "has_app_secret": int(bool(conn.app_secret)),
        "has_verify_token": int(bool(conn.verify_token)),
        "app_id": conn.app_id,
        "templates_synced_at": iso(conn.templates_synced_at),
        "created_at": iso(conn.created_at),
        "updated_at": iso(conn.updated_at),
    }
