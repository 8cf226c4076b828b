"""``POST /phone/validate`` (docs/api/messages.md): libphonenumber format check, always 200 for a
string."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant

NOTE = (
    "Format validation only. To verify WhatsApp registration, send a template message and "
    "check response."
)


@pytest.fixture
async def t(factory: Factory) -> Tenant:
    return await factory.tenant(abilities=["messages.send"])


async def validate(client: httpx.AsyncClient, t: Tenant, body: Any) -> httpx.Response:
    return await client.post(t.url("/phone/validate"), json=body, headers=t.headers)


async def test_valid_number(client: httpx.AsyncClient, t: Tenant) -> None:
    r = await validate(client, t, {"phone_number": "+91 98765-43210"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "message": "Phone number format is valid",
        "data": {
            "phone": "+91 98765-43210",
            "phone_digits": "919876543210",
            "format_valid": True,
            "country_code": "91",
            "country": "India",
            "national_number": "9876543210",
            "e164": "+919876543210",
            "reason": None,
            "note": NOTE,
        },
    }


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("+1 (415) 555-1234", "United States", "+14155551234"),
        ("442079460958", "United Kingdom", "+442079460958"),
    ],
)
async def test_other_valid_formats(
    client: httpx.AsyncClient, t: Tenant, phone: str, country: str, e164: str
) -> None:
    data = (await validate(client, t, {"phone_number": phone})).json()["data"]
    assert (data["format_valid"], data["country"], data["e164"]) == (True, country, e164)


INVALID = [
    ("+91123", "91123", "Number is too short to be valid"),
    ("12", "12", "Number is too short to be valid"),
    ("+9198765432101234", "9198765432101234", "Number is too long to be valid"),
    ("+999123456789", "999123456789", "Invalid country code"),
    ("+91abc98765", "9198765", "Number contains invalid characters"),
    ("+1 415 555 0000 ext", "14155550000", "Number contains invalid characters"),
    ("+12005550100", "12005550100", "Number is not valid for its country"),
]


@pytest.mark.parametrize(("phone", "digits", "reason"), INVALID)
async def test_invalid_numbers_are_200_with_a_reason(
    client: httpx.AsyncClient, t: Tenant, phone: str, digits: str, reason: str
) -> None:
    r = await validate(client, t, {"phone_number": phone})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "message": "Phone number format is invalid",
        "data": {
            "phone": phone,
            "phone_digits": digits,
            "format_valid": False,
            "country_code": None,
            "country": None,
            "national_number": None,
            "e164": None,
            "reason": reason,
            "note": NOTE,
        },
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "The phone number field is required."),
        ({"phone_number": ""}, "The phone number field is required."),
        ({"phone_number": None}, "The phone number field is required."),
        ({"phone_number": 919876543210}, "The phone number must be a string."),
    ],
)
async def test_missing_or_non_string_is_422(
    client: httpx.AsyncClient, t: Tenant, body: dict[str, Any], message: str
) -> None:
    r = await validate(client, t, body)
    assert r.status_code == 422
    assert r.json() == {
        "status": "error",
        "message": "Validation failed",
        "errors": {"phone_number": [message]},
    }


async def test_needs_messages_send(client: httpx.AsyncClient, factory: Factory) -> None:
    t = await factory.tenant(abilities=["contacts.read"])
    r = await validate(client, t, {"phone_number": "+919876543210"})
    assert r.status_code == 403
    assert r.json() == {
        "status": "error",
        "message": "Token does not have the required ability: messages.send",
    }


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, t: Tenant, factory: Factory
) -> None:
    b = await factory.tenant()
    r = await client.post(
        b.url("/phone/validate"), json={"phone_number": "+919876543210"}, headers=t.headers
    )
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
