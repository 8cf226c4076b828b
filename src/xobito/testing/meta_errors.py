"""Meta Graph API error bodies, as the Cloud API really shapes them, for the fake server."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MetaErrorSpec:
    http_status: int
    message: str  # Meta's top-level "message", usually "(#code) Title"
    details: str | None  # error_data.details; absent on auth errors
    error_subcode: int | None = None


# Wording follows Meta's Cloud API error-code reference. Meta answers most errors with HTTP 400;
# 190 is 401, throughput errors are 400 as well (HTTP 429 is used for app-level throttling).
CATALOGUE: dict[int, MetaErrorSpec] = {
    1: MetaErrorSpec(500, "An unknown error occurred", "Unknown error. Please try again later."),
    2: MetaErrorSpec(503, "Service temporarily unavailable", "Temporary. Please retry later."),
    4: MetaErrorSpec(429, "(#4) Application request limit reached", "Too many API calls."),
    10: MetaErrorSpec(403, "(#10) Application does not have permission for this action", None),
    100: MetaErrorSpec(400, "(#100) Invalid parameter", "Invalid parameter"),
    190: MetaErrorSpec(
        401,
        "Invalid OAuth access token - Cannot parse access token",
        None,
    ),
    200: MetaErrorSpec(
        403, "(#200) Requires whatsapp_business_management permission to manage the object", None
    ),
    803: MetaErrorSpec(404, "(#803) Some of the aliases you requested do not exist", None),
    130429: MetaErrorSpec(
        400,
        "(#130429) Rate limit hit",
        "Cloud API message throughput has been reached.",
    ),
    131000: MetaErrorSpec(500, "(#131000) Something went wrong", "Something went wrong."),
    131026: MetaErrorSpec(
        400,
        "(#131026) Message undeliverable",
        "Unable to deliver message. The recipient may not be a WhatsApp user, may not have "
        "accepted the latest Terms of Service, or may be on an old WhatsApp version.",
    ),
    131047: MetaErrorSpec(
        400,
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131056: MetaErrorSpec(
        400,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from the sender phone number to the same recipient phone "
        "number in a short period of time.",
    ),
    132000: MetaErrorSpec(
        400,
        "(#132000) Number of parameters does not match the expected number of params",
        "body: number of localizable_params (1) does not match the expected number of params (2)",
    ),
    133004: MetaErrorSpec(503, "(#133004) Server temporarily unavailable", "Try again later."),
}


def fbtrace_id() -> str:
    """Meta's per-request trace id: ~23 base64url characters."""
    return base64.urlsafe_b64encode(os.urandom(17)).decode().rstrip("=")


def meta_error_body(
    code: int,
    message: str | None = None,
    *,
    details: str | None = None,
    error_subcode: int | None = None,
) -> dict[str, Any]:
    """``{"error": {...}}`` as Meta sends it. Unknown codes get a generic "(#code)" message."""
    spec = CATALOGUE.get(code)
    error: dict[str, Any] = {
        "message": message or (spec.message if spec else f"(#{code}) Request failed"),
        "type": "OAuthException",
        "code": code,
    }
    detail = details if details is not None else (spec.details if spec else None)
    if detail:  # "" leaves error_data out, as Meta's object-lookup errors do
        error["error_data"] = {"messaging_product": "whatsapp", "details": detail}
    subcode = error_subcode if error_subcode is not None else (spec.error_subcode if spec else None)
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = fbtrace_id()
    return {"error": error}


def default_http_status(code: int) -> int:
    """The HTTP status Meta answers a given error code with (400 when unknown)."""
    spec = CATALOGUE.get(code)
    return spec.http_status if spec else 400


def error_title(code: int) -> str:
    """Short title (the message without the "(#code) " prefix), as in status webhooks."""
    spec = CATALOGUE.get(code)
    if spec is None:
        return "Request failed"
    prefix = f"(#{code}) "
    return spec.message.removeprefix(prefix)
