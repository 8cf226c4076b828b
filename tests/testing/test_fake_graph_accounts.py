"""The fake Graph API's account reads: parameters checked against Meta's operations, answers
in Meta's response schemas, failing variants."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from xobito.testing import meta_operations
from xobito.testing.fake_graph import FakeGraphServer
from xobito.testing.meta_schema import relaxed_spec

AUTH = {"Authorization": "Bearer test-token"}
WABA = "419561257915477"
NUMBER = "106540352242922"


async def _get(url: str, **params: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url, params=params, headers=AUTH) as r:
        return r.status, await r.json()


@pytest.mark.parametrize(
    "path",
    [
        meta_operations.PHONE_NUMBER_PATH,
        meta_operations.WABA_NUMBERS_PATH,
        meta_operations.SUBSCRIBED_APPS_PATH,
    ],
)
def test_metas_own_response_examples_validate(path: str) -> None:
    responses = relaxed_spec()["paths"][path]["get"]["responses"]
    checked = 0
    for status, response in responses.items():
        content = response["content"]["application/json"]
        examples = [e["value"] for e in content.get("examples", {}).values()]
        examples += [content["example"]] if "example" in content else []
        for example in examples:
            assert meta_operations.validate_response(path, "get", int(status), example) == []
            checked += 1
    assert checked >= 5


def test_a_malformed_response_is_caught() -> None:
    bad = {"data": [{"id": NUMBER, "status": "FINE"}]}  # no display number; unknown status
    errors = meta_operations.validate_response(meta_operations.WABA_NUMBERS_PATH, "get", 200, bad)
    assert any("display_phone_number" in e for e in errors)
    assert any("FINE" in e for e in errors)


async def test_reads_answer_in_metas_shapes(fake_graph: FakeGraphServer) -> None:
    fake_graph.accounts.add_waba(WABA, [NUMBER])
    base = fake_graph.base_url
    assert (await _get(f"{base}/{NUMBER}"))[0] == 200
    status, numbers = await _get(
        f"{base}/{WABA}/phone_numbers", fields="id,status,messaging_limit_tier", limit="10"
    )
    assert status == 200
    assert numbers["data"] == [
        {"id": NUMBER, "status": "LINKED", "messaging_limit_tier": "TIER_1K"}
    ]
    status, apps = await _get(f"{base}/{WABA}/subscribed_apps")
    assert status == 200
    assert apps == {
        "data": [{"whatsapp_business_api_data": {"id": "1234567890123456", "name": "Xobito"}}]
    }
    assert fake_graph.schema_violations == []


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/{waba}/phone_numbers", {"fields": "id,colour"}, "'colour' is not a field"),
        ("/{waba}/phone_numbers", {"limit": "500"}, "query.limit: 500 is greater than"),
        ("/{waba}/phone_numbers", {"limit": "many"}, "query.limit: 'many' is not of type"),
        ("/{waba}/phone_numbers", {"sort": "name.asc"}, "query.sort: 'name.asc' is not one of"),
        ("/{waba}/phone_numbers", {"page": "2"}, "query.page: is not a parameter"),
        ("/{number}", {"fields": "messaging_limit_tier"}, "is not a field of the response"),
        ("/{waba}/subscribed_apps", {"limit": "5"}, "query.limit: is not a parameter"),
        ("/abc/phone_numbers", {}, "path.WABA-ID: 'abc' does not match"),
    ],
)
async def test_requests_are_checked_against_the_operation(
    fake_graph: FakeGraphServer, path: str, params: dict[str, str], expected: str
) -> None:
    fake_graph.accounts.add_waba(WABA, [NUMBER])
    url = fake_graph.base_url + path.format(waba=WABA, number=NUMBER)
    status, body = await _get(url, **params)
    assert status == 400
    assert body["error"]["code"] == 100
    [violation] = fake_graph.schema_violations
    assert any(expected in e for e in violation.errors), violation.errors


async def test_denials_last_until_reset(fake_graph: FakeGraphServer) -> None:
    fake_graph.accounts.add_waba(WABA, [NUMBER])
    fake_graph.accounts.deny("subscribed_apps", code=200)
    for _ in range(2):
        status, body = await _get(f"{fake_graph.base_url}/{WABA}/subscribed_apps")
        assert (status, body["error"]["code"]) == (403, 200)
    assert (await _get(f"{fake_graph.base_url}/{WABA}/phone_numbers"))[0] == 200
    fake_graph.reset()
    assert fake_graph.accounts.wabas == {}
    fake_graph.accounts.add_waba(WABA, [NUMBER])
    assert (await _get(f"{fake_graph.base_url}/{WABA}/subscribed_apps"))[0] == 200


async def test_unknown_ids_answer_like_graph(fake_graph: FakeGraphServer) -> None:
    status, body = await _get(f"{fake_graph.base_url}/{NUMBER}")
    assert status == 400
    error = body["error"]
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert "error_data" not in error
    assert fake_graph.schema_violations == []  # the error matches the documented 400 schema
