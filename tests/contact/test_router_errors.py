"""``/contacts`` failures: not found, other workspaces, abilities, bodies, order of checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Factory
from xobito.auth.abilities import ABILITIES

NOT_FOUND = {"status": "error", "message": "Contact not found"}
UPDATE = {"firstname": "X", "lastname": "Y", "phone": "+14155559999", "type": "customer"}
ENDPOINTS = [
    ("GET", "/contacts", "contacts.read"),
    ("GET", "/contacts/1", "contacts.read"),
    ("POST", "/contacts", "contacts.create"),
    ("PUT", "/contacts/1", "contacts.update"),
    ("DELETE", "/contacts/1", "contacts.delete"),
]


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    json: Any = None,
) -> httpx.Response:
    return await client.request(method, url, headers=headers or {}, json=json)


def all_but(ability: str) -> list[str]:
    return [a for a in ABILITIES if a != ability]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("contact_id", ["999", "abc", "1.5", "-1", "0", str(2**31), "9" * 40])
async def test_unknown_or_malformed_ids_are_404(
    client: httpx.AsyncClient, factory: Factory, method: str, contact_id: str
) -> None:
    a = await factory.tenant()
    await factory.contact(a)
    r = await call(client, method, a.url(f"/contacts/{contact_id}"), a.headers, UPDATE)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_put_validation_comes_before_the_record_lookup(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """docs/api/authentication.md: body validation (step 7) before "referenced record missing"
    (step 8)."""
    a = await factory.tenant()
    r = await call(client, "PUT", a.url("/contacts/42"), a.headers, {})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"firstname", "lastname", "phone", "type"}
    r = await call(client, "PUT", a.url("/contacts/42"), a.headers, UPDATE)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_workspace_b_gets_404_for_workspace_a_record(
    client: httpx.AsyncClient, factory: Factory, method: str
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    theirs = await factory.contact(b, groups="g")
    r = await call(client, method, a.url(f"/contacts/{theirs['id']}"), a.headers, UPDATE)
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    untouched = await client.get(b.url(f"/contacts/{theirs['id']}"), headers=b.headers)
    assert untouched.json()["data"] == theirs


@pytest.mark.parametrize(("method", "path", "ability"), ENDPOINTS)
async def test_token_of_a_on_b_subdomain_is_401(
    client: httpx.AsyncClient, factory: Factory, method: str, path: str, ability: str
) -> None:
    a = await factory.tenant()
    b = await factory.tenant()
    theirs = await factory.contact(b)
    r = await call(client, method, b.url(path), a.headers, UPDATE)
    assert r.status_code == 401
    assert r.json() == {"status": "error", "message": "Invalid API token"}
    untouched = await client.get(b.url(f"/contacts/{theirs['id']}"), headers=b.headers)
    assert untouched.json()["data"] == theirs


@pytest.mark.parametrize(("method", "path", "ability"), ENDPOINTS)
async def test_missing_ability_is_403(
    client: httpx.AsyncClient, factory: Factory, method: str, path: str, ability: str
) -> None:
    a = await factory.tenant(abilities=all_but(ability))
    full = await factory.token(a.workspace)
    c = await factory.contact(a)
    assert c["id"] == 1
    r = await call(client, method, a.url(path), a.headers, {})  # invalid body: 403 still wins
    assert r.status_code == 403
    assert r.json() == {
        "status": "error",
        "message": f"Token does not have the required ability: {ability}",
    }
    # Nothing changed.
    listed = await client.get(a.url("/contacts"), headers={"Authorization": f"Bearer {full[0]}"})
    assert listed.json()["data"]["data"] == [c]


async def test_each_ability_opens_only_its_endpoint(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(abilities=["contacts.read"])
    await factory.contact(a)
    assert (await call(client, "GET", a.url("/contacts"), a.headers)).status_code == 200
    assert (await call(client, "GET", a.url("/contacts/1"), a.headers)).status_code == 200
    for method in ("POST", "PUT", "DELETE"):
        path = "/contacts" if method == "POST" else "/contacts/1"
        assert (await call(client, method, a.url(path), a.headers, UPDATE)).status_code == 403


async def test_unknown_subdomain_beats_missing_token(client: httpx.AsyncClient) -> None:
    for method, path, _ in ENDPOINTS:
        r = await call(client, method, f"/api/v1/nope{path}")
        assert r.status_code == 400
        assert r.json() == {
            "status": "error",
            "message": "Validation failed",
            "errors": "Invalid tenant subdomain",
        }


async def test_missing_token_beats_ability_and_validation(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(abilities=["templates.read"])
    for method, path, _ in ENDPOINTS:
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
            r = await call(client, method, a.url(path), headers, {"firstname": 5})
            assert r.status_code == 401, (method, path, headers)
            assert r.json() == {"status": "error", "message": "API token is required"}


async def test_unknown_token_is_invalid(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    for token in ("apitk_" + "x" * 64, "garbage", a.token + "x", a.token.upper()):
        r = await client.get(a.url("/contacts"), headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert r.json() == {"status": "error", "message": "Invalid API token"}


async def test_ability_beats_validation_and_plan_limit(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant(abilities=["contacts.read"], max_contacts=1)
    await factory.contact(a)
    r = await call(client, "POST", a.url("/contacts"), a.headers, {"phone": "bad"})
    assert r.status_code == 403


async def test_malformed_json_is_422(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    headers = a.headers | {"Content-Type": "application/json"}
    for url, method in ((a.url("/contacts"), "POST"), (a.url(f"/contacts/{c['id']}"), "PUT")):
        for content in (b"{bad", b'{"firstname": "A",}', b"\xff\xfe", b"{'a': 1}", b"NaN"):
            r = await client.request(method, url, content=content, headers=headers)
            assert r.status_code == 422, content
            assert r.json() == {
                "status": "error",
                "message": "Validation failed",
                "errors": {"body": ["The request body must be valid JSON."]},
            }


@pytest.mark.parametrize("content", [b"[]", b'[{"firstname": "A"}]', b'"text"', b"42", b"null"])
async def test_json_that_is_not_an_object_is_422(
    client: httpx.AsyncClient, factory: Factory, content: bytes
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    for method, path in (("POST", "/contacts"), ("PUT", f"/contacts/{c['id']}")):
        r = await client.request(method, a.url(path), content=content, headers=a.headers)
        assert r.status_code == 422
        assert r.json()["message"] == "Validation failed"
        assert "errors" in r.json()


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    padding = "x" * (1024 * 1024)
    for method, path in (("POST", "/contacts"), ("PUT", f"/contacts/{c['id']}")):
        r = await call(client, method, a.url(path), a.headers, {"description": padding})
        assert r.status_code == 413
        assert r.json()["status"] == "error"
    listed = await client.get(a.url("/contacts"), headers=a.headers)
    assert listed.json()["data"]["data"] == [c]


async def test_body_just_under_the_limit_is_read(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    body = {"description": "x" * (1024 * 1024 - 100)}
    r = await call(client, "POST", a.url("/contacts"), a.headers, body)
    assert r.status_code == 422  # read and validated, not refused for size
    assert "firstname" in r.json()["errors"]


async def test_unknown_route_and_wrong_method(client: httpx.AsyncClient, factory: Factory) -> None:
    a = await factory.tenant()
    r = await client.get(a.url("/contactz"), headers=a.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Not found"}
    r = await client.get(a.url("/contacts/1/extra"), headers=a.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Not found"}
    for method, path in (
        ("PATCH", "/contacts/1"),
        ("DELETE", "/contacts"),
        ("POST", "/contacts/1"),
    ):
        r = await client.request(method, a.url(path), headers=a.headers)
        assert r.status_code == 405, (method, path)
        assert r.json() == {"status": "error", "message": "Method not allowed"}


async def test_nested_objects_and_odd_types_never_500(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    c = await factory.contact(a)
    bodies: list[Any] = [
        {"firstname": {"$ne": None}, "phone": {"a": [1, 2, {"b": 3}]}, "type": ["lead"]},
        {"firstname": "A", "phone": "+14155550001", "type": "lead", "groups": ["a", "b"]},
        {"firstname": "A", "phone": "\x00\x01", "type": "lead\x00", "email": "\u0000@x.com"},
        {"firstname": "A", "phone": "+1415555\u0661\u0662\u0663\u0664", "type": "lead"},
        {"status_id": {"id": 1}, "source_id": [1], "country_id": None, "assigned_id": False},
        {"groups": ",".join(["g"] * 10_000)},
        {"x" * 10_000: "y", "firstname": "A" * 255},
    ]
    for body in bodies:
        for method, path in (("POST", "/contacts"), ("PUT", f"/contacts/{c['id']}")):
            r = await call(client, method, a.url(path), a.headers, body)
            assert r.status_code in (201, 200, 422), (body, r.text)
            assert r.json()["status"] in ("success", "error")
            assert "Traceback" not in r.text


async def test_lone_surrogate_escape_is_not_a_500(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    content = b'{"firstname": "\\ud800", "phone": "+14155550001", "type": "lead"}'
    r = await client.post(a.url("/contacts"), content=content, headers=a.headers)
    assert r.status_code == 422
    assert r.json()["message"] == "Validation failed"


async def test_headers_carry_rate_limit_on_errors(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    a = await factory.tenant()
    r = await client.get(a.url("/contacts/999"), headers=a.headers)
    assert r.status_code == 404
    assert r.headers["X-RateLimit-Limit"] == "60"
    assert int(r.headers["X-RateLimit-Remaining"]) == 59
