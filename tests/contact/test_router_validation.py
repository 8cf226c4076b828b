"""``POST``/``PUT /contacts`` validation, each rule at its boundary (docs/api/errors.md,
docs/api/contacts.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory, Tenant


async def valid_body(factory: Factory, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    status = await factory.status(tenant)
    source = await factory.source(tenant)
    return {
        "firstname": "Ann",
        "phone": "+14155551234",
        "type": "lead",
        "status_id": status.id,
        "source_id": source.id,
        **fields,
    }


async def create(client: httpx.AsyncClient, tenant: Tenant, body: Any) -> httpx.Response:
    return await client.post(tenant.url("/contacts"), json=body, headers=tenant.headers)


def errors_of(r: httpx.Response) -> dict[str, list[str]]:
    assert r.status_code == 422, r.text
    out = r.json()
    assert list(out) == ["status", "message", "errors"]
    assert out["status"] == "error" and out["message"] == "Validation failed"
    errors: dict[str, list[str]] = out["errors"]
    return errors


@pytest.mark.parametrize(
    ("field", "limit", "attr"),
    [("firstname", 255, "firstname"), ("lastname", 255, "lastname"), ("company", 255, "company")],
)
async def test_string_max_boundaries(
    client: httpx.AsyncClient, factory: Factory, field: str, limit: int, attr: str
) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    ok = await create(client, a, body | {field: "x" * limit})
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"][field] == "x" * limit
    r = await create(client, a, body | {"phone": "+14155550001", field: "x" * (limit + 1)})
    assert errors_of(r) == {field: [f"The {attr} may not be greater than {limit} characters."]}


async def test_required_fields_missing_null_and_empty(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    expected = {
        "firstname": ["The firstname field is required."],
        "phone": ["The phone field is required."],
        "type": ["The type field is required."],
        "source_id": ["The source id field is required."],
        "status_id": ["The status id field is required."],
    }
    assert errors_of(await create(client, a, {})) == expected
    nulls = dict.fromkeys(expected)
    assert errors_of(await create(client, a, nulls)) == expected
    blanks = {"firstname": "", "phone": "  ", "type": "", "source_id": "", "status_id": ""}
    assert errors_of(await create(client, a, blanks)) == expected
    # An empty body is an empty object too.
    r = await client.post(a.url("/contacts"), content=b"", headers=a.headers)
    assert errors_of(r) == expected


async def test_strings_are_trimmed(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a, firstname="  Ann  ", company=" "))
    assert r.status_code == 201
    assert r.json()["data"]["firstname"] == "Ann"
    assert r.json()["data"]["company"] is None


async def test_phone_max_20(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    twenty = "+1  (415)  555-1234-"  # 20 characters, a valid number once cleaned
    assert len(twenty) == 20
    r = await create(client, a, body | {"phone": twenty})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["phone"] == "+14155551234"
    r = await create(client, a, body | {"phone": "+1  (415)  555-0002--"})
    assert errors_of(r) == {"phone": ["The phone may not be greater than 20 characters."]}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+1 415 555 1234", "+14155551234"),
        ("+1-415-555-1234", "+14155551234"),
        ("+1 (415) 555-1234", "+14155551234"),
        ("14155551234", "+14155551234"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
async def test_phone_is_stored_in_e164(
    client: httpx.AsyncClient, factory: Factory, raw: str, stored: str
) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a, phone=raw))
    assert r.status_code == 201, r.text
    assert r.json()["data"]["phone"] == stored


@pytest.mark.parametrize("raw", ["abc", "123", "+1 415 FLOWERS", "++14155551234", "+1/415/555"])
async def test_invalid_phone_format(client: httpx.AsyncClient, factory: Factory, raw: str) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a, phone=raw))
    assert errors_of(r) == {"phone": ["The phone format is invalid."]}


async def test_phone_unique_per_workspace_however_written(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    body = await valid_body(factory, a, phone="+14155551234")
    assert (await create(client, a, body)).status_code == 201
    for written in ("+14155551234", "+1 415-555-1234", "1 (415) 555 1234"):
        r = await create(client, a, body | {"phone": written})
        assert errors_of(r) == {"phone": ["The phone has already been taken."]}, written
    r = await create(client, b, await valid_body(factory, b, phone="+1 415-555-1234"))
    assert r.status_code == 201
    assert r.json()["data"]["phone"] == "+14155551234"


@pytest.mark.parametrize("email", ["plain", "a@", "@example.com", "a b@example.com", "a@@b.com"])
async def test_email_format(client: httpx.AsyncClient, factory: Factory, email: str) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a, email=email))
    assert errors_of(r) == {"email": ["The email must be a valid email address."]}


async def test_email_max_191(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    domain = f"{'d' * 60}.{'e' * 60}.com"  # 125 characters
    ok = "a" * (191 - len(domain) - 1) + "@" + domain
    assert len(ok) == 191
    r = await create(client, a, body | {"email": ok})
    assert r.status_code == 201, r.text
    long = "a" * (192 - len(domain) - 1) + "@" + domain
    r = await create(client, a, body | {"phone": "+14155550002", "email": long})
    assert errors_of(r)["email"][0] == "The email may not be greater than 191 characters."


async def test_email_unique_per_workspace_when_given(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    body = await valid_body(factory, a, email="ann@example.com")
    assert (await create(client, a, body)).status_code == 201
    r = await create(client, a, body | {"phone": "+14155550002"})
    assert errors_of(r) == {"email": ["The email has already been taken."]}
    # Without an email there is nothing to collide with.
    for n, email in enumerate((None, "", None)):
        r = await create(client, a, body | {"phone": f"+1415555001{n}", "email": email})
        assert r.status_code == 201, r.text
    r = await create(client, b, await valid_body(factory, b, email="ann@example.com"))
    assert r.status_code == 201


@pytest.mark.parametrize("type_", ["guest", "Lead", "other", 1])
async def test_type_must_be_lead_or_customer(
    client: httpx.AsyncClient, factory: Factory, type_: Any
) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a, type=type_))
    assert errors_of(r) == {"type": ["The selected type is invalid."]}


async def test_status_and_source_must_exist_in_this_workspace(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    theirs_status = await factory.status(b)
    theirs_source = await factory.source(b)
    body = await valid_body(factory, a)
    r = await create(
        client, a, body | {"status_id": theirs_status.id, "source_id": theirs_source.id}
    )
    assert errors_of(r) == {
        "source_id": ["The selected source id is invalid."],
        "status_id": ["The selected status id is invalid."],
    }
    r = await create(client, a, body | {"status_id": 999999, "source_id": 2**31 - 1})
    assert set(errors_of(r)) == {"status_id", "source_id"}


@pytest.mark.parametrize("field", ["status_id", "source_id", "country_id", "assigned_id"])
@pytest.mark.parametrize("value", ["abc", "1.5", 1.5, [1], {"a": 1}, 10**30, "9" * 5000])
async def test_integer_fields(
    client: httpx.AsyncClient, factory: Factory, field: str, value: Any
) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a) | {field: value})
    attr = field.replace("_", " ")
    assert errors_of(r) == {field: [f"The {attr} must be an integer."]}


@pytest.mark.parametrize("field", ["status_id", "source_id"])
@pytest.mark.parametrize("value", [0, -1, 2**31, 2**63])
async def test_out_of_range_reference_names_no_record(
    client: httpx.AsyncClient, factory: Factory, field: str, value: int
) -> None:
    a = await factory.tenant()
    r = await create(client, a, await valid_body(factory, a) | {field: value})
    attr = field.replace("_", " ")
    assert errors_of(r) == {field: [f"The selected {attr} is invalid."]}


@pytest.mark.parametrize("field", ["country_id", "assigned_id"])
async def test_plain_integers_stay_in_the_32_bit_range(
    client: httpx.AsyncClient, factory: Factory, field: str
) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    r = await create(client, a, body | {field: 2**31 - 1})
    assert r.status_code == 201
    assert r.json()["data"][field] == 2**31 - 1
    r = await create(client, a, body | {"phone": "+14155550002", field: 2**31})
    attr = field.replace("_", " ")
    assert errors_of(r) == {field: [f"The {attr} may not be greater than {2**31 - 1}."]}


async def test_integer_strings_are_accepted(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    body |= {"status_id": str(body["status_id"]), "country_id": "840", "assigned_id": 3}
    r = await create(client, a, body)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["country_id"] == 840


async def test_all_failing_fields_are_reported_at_once(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    await create(client, a, await valid_body(factory, a, email="taken@example.com"))
    body = {
        "firstname": "x" * 256,
        "lastname": 5,
        "phone": "+14155551234",  # taken
        "email": "taken@example.com",  # taken
        "type": "guest",
        "status_id": 424242,
        "source_id": "abc",
        "company": "y" * 256,
        "country_id": "z",
        "assigned_id": 1.5,
    }
    assert errors_of(await create(client, a, body)) == {
        "firstname": ["The firstname may not be greater than 255 characters."],
        "lastname": ["The lastname must be a string."],
        "phone": ["The phone has already been taken."],
        "email": ["The email has already been taken."],
        "type": ["The selected type is invalid."],
        "source_id": ["The source id must be an integer."],
        "status_id": ["The selected status id is invalid."],
        "company": ["The company may not be greater than 255 characters."],
        "country_id": ["The country id must be an integer."],
        "assigned_id": ["The assigned id must be an integer."],
    }


@pytest.mark.parametrize(
    "value",
    [123, 1.5, True, ["Ann"], {"first": "Ann"}],
)
async def test_non_strings_where_strings_are_expected(
    client: httpx.AsyncClient, factory: Factory, value: Any
) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    fields = ("firstname", "lastname", "phone", "company", "description", "email", "groups")
    r = await create(client, a, body | dict.fromkeys(fields, value))
    assert errors_of(r) == {f: [f"The {f} must be a string."] for f in fields}


async def test_odd_but_valid_strings(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await valid_body(
        factory,
        a,
        firstname="Zoë 😀 李",
        lastname='O\'Brien "Robert"; DROP TABLE contacts; --',
        description="x" * 100_000,
        company="\u202eevil",
    )
    r = await create(client, a, body)
    assert r.status_code == 201, r.text
    record = r.json()["data"]
    for key in ("firstname", "lastname", "description", "company"):
        assert record[key] == body[key]


async def test_long_unicode_counts_characters(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    body = await valid_body(factory, a)
    assert (await create(client, a, body | {"firstname": "é" * 255})).status_code == 201
    r = await create(client, a, body | {"phone": "+14155550002", "firstname": "😀" * 256})
    assert errors_of(r) == {"firstname": ["The firstname may not be greater than 255 characters."]}


async def test_very_long_values_are_refused_without_500(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = {
        "firstname": "x" * 200_000,
        "phone": "9" * 200_000,
        "email": "a" * 200_000,
        "type": "t" * 200_000,
        "status_id": "9" * 5000,
        "source_id": "9" * 200_000,
        "groups": "g" * 300,
    }
    r = await create(client, a, body)
    errors = errors_of(r)
    assert errors["firstname"] == ["The firstname may not be greater than 255 characters."]
    assert errors["phone"] == ["The phone may not be greater than 20 characters."]
    assert errors["type"] == ["The selected type is invalid."]
    assert errors["groups.0"] == ["The groups.0 may not be greater than 255 characters."]
    assert errors["source_id"] == ["The source id must be an integer."]
    assert set(errors) == set(body) - {"groups"} | {"groups.0"}
    assert "Traceback" not in r.text


async def test_number_too_big_for_json_is_a_malformed_body(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    content = b'{"firstname": "Ann", "status_id": 1' + b"0" * 400 + b"}"
    r = await client.post(a.url("/contacts"), content=content, headers=a.headers)
    assert errors_of(r) == {"body": ["The request body must be valid JSON."]}


async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    c = await factory.contact(a)
    body = {"firstname": "X", "lastname": "Y", "phone": "+14155559999", "type": "lead"}
    r = await client.put(b.url(f"/contacts/{c['id']}"), json=body, headers=b.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Contact not found"}


async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    r = await client.post(b.url("/contacts"), json={}, headers=a.headers)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
