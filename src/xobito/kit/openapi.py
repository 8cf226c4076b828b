"""OpenAPI documentation for bodies we parse ourselves (to control validation messages)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return dict(_inline(schema, schema.get("$defs", {})))


def route_doc(
    *,
    failure: str,
    not_found: str | None = None,
    body: type[BaseModel] | None = None,
    multipart: type[BaseModel] | None = None,
    max_body: int | None = None,
    files: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``openapi_extra`` for a route: its request body and the spec's failure texts.
    ``files``: the multipart body's upload fields (name -> description)."""
    extra: dict[str, Any] = {"x-failure": failure}
    if not_found:
        extra["x-not-found"] = not_found
    if max_body:
        extra["x-max-body"] = max_body
    content: dict[str, Any] = {}
    if body is not None:
        content["application/json"] = {"schema": schema_of(body)}
    if multipart is not None:
        form = schema_of(multipart)
        form["properties"] = {
            **form.get("properties", {}),
            **{
                name: {"type": "string", "format": "binary", "description": text}
                for name, text in (files or {}).items()
            },
        }
        content["multipart/form-data"] = {"schema": form}
    if content:
        extra["requestBody"] = {"required": True, "content": content}
    return extra


# -- responses ------------------------------------------------------------------------------------
# The spec's envelopes (docs/api/README.md, docs/api/authentication.md) as OpenAPI response
# objects, for the ``responses=`` argument of
# a route decorator, so that /openapi.json tells clients (and schemathesis) what comes back.

Schema = dict[str, Any]
Responses = dict[int | str, Any]

TIMESTAMP: Schema = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
    "examples": ["2026-04-16T12:00:00.000000Z"],
}
FLAG: Schema = {"type": "integer", "enum": [0, 1]}
ID: Schema = {"type": "integer", "minimum": 1}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def record(**properties: Schema) -> Schema:
    """A JSON object with exactly these keys, all always present."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


_STR: Schema = {"type": "string"}
_NSTR = nullable(_STR)
_NINT = nullable({"type": "integer"})

CONTACT = record(
    id=ID,
    tenant_id=ID,
    firstname=_STR,
    lastname=_NSTR,
    company=_NSTR,
    type={"type": "string", "enum": ["lead", "customer", "guest"]},
    description=_NSTR,
    country_id=_NINT,
    zip=_NSTR,
    city=_NSTR,
    state=_NSTR,
    address=_NSTR,
    website=_NSTR,
    email=_NSTR,
    phone={"type": "string", "pattern": r"^\+[0-9]+$"},
    source_id=nullable(ID),
    status_id=nullable(ID),
    assigned_id=_NINT,
    group_id={"type": "array", "items": ID},
    is_enabled=FLAG,
    is_opted_out=FLAG,
    opted_out_at=nullable(TIMESTAMP),
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
STATUS = record(
    id=ID,
    tenant_id=ID,
    name=_STR,
    color=_NSTR,
    isdefault=FLAG,
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
LABEL = record(id=ID, tenant_id=ID, name=_STR, created_at=TIMESTAMP, updated_at=TIMESTAMP)
WORKSPACE = record(
    id=ID,
    subdomain={"type": "string", "pattern": "^[a-z0-9-]{1,63}$"},
    name=_STR,
    max_contacts=_NINT,
    rate_limit_max={"type": "integer", "minimum": 1},
    rate_limit_decay={"type": "integer", "minimum": 1},
    enforce_care_window=FLAG,
    whatsapp_provider={"type": "string", "enum": ["sandbox", "cloud"]},
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
_TOKEN_FIELDS: dict[str, Schema] = {
    "id": ID,
    "tenant_id": ID,
    "name": _STR,
    "token_prefix": {"type": "string", "pattern": "^apitk_"},
    "abilities": {"type": "array", "items": _STR},
    "rate_limit_max": _NINT,
    "monthly_quota": _NINT,
    "expires_at": nullable(TIMESTAMP),
    "is_active": FLAG,
    "last_used_at": nullable(TIMESTAMP),
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
TOKEN = record(**_TOKEN_FIELDS)
NEW_TOKEN = record(**_TOKEN_FIELDS, token={"type": "string", "pattern": "^apitk_[A-Za-z0-9]{64}$"})

_ANY: Schema = {}
_COUNT: Schema = {"type": "integer", "minimum": 0}
TEMPLATE = record(
    id=ID,
    tenant_id=ID,
    template_id=_STR,
    template_name=_STR,
    language=_STR,
    status={
        "type": "string",
        "enum": ["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED"],
    },
    category=nullable({"type": "string", "enum": ["MARKETING", "UTILITY", "AUTHENTICATION"]}),
    header_data_format=nullable({"type": "string", "enum": ["TEXT", "IMAGE", "VIDEO", "DOCUMENT"]}),
    header_data_text=_NSTR,
    header_params_count=_COUNT,
    body_data=_NSTR,
    body_params_count=_COUNT,
    footer_data=_NSTR,
    footer_params_count=_COUNT,
    buttons_data=_ANY,
    header_file_url=_NSTR,
    header_variable_value=_ANY,
    body_variable_value=_ANY,
    template_type=_STR,
    cards_json=_ANY,
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
DELIVERY = {"type": "string", "enum": ["pending", "sent", "delivered", "read", "failed"]}
SENT_MESSAGE = record(
    message_id={"type": "string", "pattern": "^wamid\\."},
    contact_id=ID,
    phone={"type": "string", "pattern": r"^\+[0-9]+$"},
    message=_NSTR,
    status=DELIVERY,
    sent_at=nullable(TIMESTAMP),
    chat_id=ID,
    contact_created={"type": "boolean"},
    whatsapp_response=nullable({"type": "object"}),
)
MESSAGE_STATUS = record(
    message_id=_STR,
    delivery_status=DELIVERY,
    error_message=_NSTR,
    source={"type": "string", "enum": ["chat"]},
    last_updated=TIMESTAMP,
    statuses={"type": "object", "additionalProperties": _STR},
)
PHONE_CHECK = record(
    phone=_STR,
    phone_digits={"type": "string", "pattern": "^[0-9]*$"},
    format_valid={"type": "boolean"},
    country_code=nullable({"type": "string", "pattern": "^[0-9]+$"}),
    country=_NSTR,
    national_number=nullable({"type": "string", "pattern": "^[0-9]+$"}),
    e164=nullable({"type": "string", "pattern": r"^\+[0-9]+$"}),
    reason=_NSTR,
    note=_STR,
)


def paginated(item: Schema) -> Schema:
    """Laravel's length-aware paginator around ``item`` records (docs/api/README.md)."""
    url = nullable({"type": "string"})
    link = record(url=url, label=_STR, active={"type": "boolean"})
    return record(
        current_page=ID,
        data={"type": "array", "items": item},
        first_page_url=_STR,
        **{"from": nullable(ID)},
        last_page=ID,
        last_page_url=_STR,
        links={"type": "array", "items": link, "minItems": 3},
        next_page_url=url,
        path=_STR,
        per_page={"type": "integer", "minimum": 1, "maximum": 100},
        prev_page_url=url,
        to=nullable(ID),
        total={"type": "integer", "minimum": 0},
    )


def cursor_paginated(item: Schema) -> Schema:
    """The opt-in keyset page (``?cursor=``): the records after the cursor and the cursor
    of the next page (``null`` on the last), no total."""
    url = nullable({"type": "string"})
    return record(
        data={"type": "array", "items": item},
        path=_STR,
        per_page={"type": "integer", "minimum": 1, "maximum": 100},
        next_cursor=nullable({"type": "string"}),
        next_page_url=url,
    )


def list_of(item: Schema) -> Schema:
    return {"type": "array", "items": item}


def _json(description: str, schema: Schema, headers: dict[str, Any] | None = None) -> Schema:
    out: Schema = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _error(*messages: str, pattern: str | None = None) -> Schema:
    message: Schema = {"type": "string"}
    if messages:
        message = {"type": "string", "enum": list(messages)}
    elif pattern:
        message = {"type": "string", "pattern": pattern}
    return record(status={"type": "string", "enum": ["error"]}, message=message)


def success_envelope(
    data: Schema | None = None, message: str | tuple[str, ...] | None = None
) -> Schema:
    properties: dict[str, Schema] = {"status": {"type": "string", "enum": ["success"]}}
    if message is not None:
        messages = [message] if isinstance(message, str) else list(message)
        properties["message"] = {"type": "string", "enum": messages}
    if data is not None:
        properties["data"] = data
    return record(**properties)


VALIDATION = record(
    status={"type": "string", "enum": ["error"]},
    message={"type": "string", "enum": ["Validation failed"]},
    errors={
        "type": "object",
        "additionalProperties": {"type": "array", "items": _STR, "minItems": 1},
    },
)
INVALID_SUBDOMAIN = record(
    status={"type": "string", "enum": ["error"]},
    message={"type": "string", "enum": ["Validation failed"]},
    errors={"type": "string", "enum": ["Invalid tenant subdomain"]},
)
# "Failed to <action>"; a refused WhatsApp send adds errors.whatsapp (docs/api/messages.md).
FAILURE: Schema = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "message": {"type": "string", "pattern": "^Failed to "},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": _STR}},
    },
    "additionalProperties": False,
}
TOO_MANY = record(
    message={"type": "string", "enum": ["Too many requests", "Monthly quota exceeded"]},
    retry_after={"type": "integer", "minimum": 1},
)
_INT_HEADER = {"schema": {"type": "integer"}}
RATE_HEADERS = {"X-RateLimit-Limit": _INT_HEADER, "X-RateLimit-Remaining": _INT_HEADER}


def api_responses(
    status_code: int = 200,
    *,
    data: Schema | None = None,
    message: str | tuple[str, ...] | None = None,
    not_found: str | None = None,
    body: bool = False,
    conflict: str | None = None,
) -> Responses:
    """Every response a ``/api/v1/{subdomain}`` route can give (docs/api/authentication.md order of
    checks).

    ``data``/``message``: the success envelope; ``not_found``: the route names a record;
    ``body``: it reads a JSON body (413, and 409 for a POST's Idempotency-Key); ``conflict``:
    when the record's state refuses the request (409, this description). 422 is listed
    on every route: the order of checks has it for all (and FastAPI would otherwise document
    its own, differently shaped, validation error).
    """
    out: Responses = {
        status_code: _json("Success", success_envelope(data, message), RATE_HEADERS),
        400: _json("Unknown workspace subdomain", INVALID_SUBDOMAIN),
        401: _json(
            "Missing or invalid API token", _error("API token is required", "Invalid API token")
        ),
        403: _json(
            "The token lacks the ability (or a plan limit forbids it)",
            _error(pattern="^(Token does not have the required ability: |Contact limit exceeded)"),
        ),
        429: _json(
            "Rate limit or monthly quota exceeded",
            TOO_MANY,
            {"Retry-After": _INT_HEADER, **RATE_HEADERS},
        ),
        500: _json("Unexpected failure", FAILURE),
    }
    if not_found:
        out[404] = _json("No such record in this workspace", _error(not_found))
    out[422] = _json("Validation failed", VALIDATION)
    conflicts = [conflict] if conflict else []
    if body:
        conflicts.append("A request with this idempotency key is in progress")
        out[413] = _json("The request body is too large", _error())
    if conflicts:
        out[409] = _json("; ".join(conflicts), _error())
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))


def admin_responses(
    status_code: int = 200,
    *,
    data: Schema | None = None,
    message: str | None = None,
    not_found: str | tuple[str, ...] | None = None,
    body: bool = False,
) -> Responses:
    """Every response an ``/api/admin`` route can give (docs/api/admin.md)."""
    missing = (not_found,) if isinstance(not_found, str) else (not_found or ())
    out: Responses = {
        status_code: _json("Success", success_envelope(data, message)),
        401: _json("Missing or wrong operator key", _error()),
        404: _json(
            "Unknown record, or the admin API is disabled (no XOBITO_ADMIN_KEY)",
            _error("Not found", *missing),
        ),
        422: _json("Validation failed", VALIDATION),
        500: _json("Unexpected failure", FAILURE),
    }
    if body:
        out[413] = _json("The request body is too large", _error())
    return dict(sorted(out.items(), key=lambda kv: str(kv[0])))
