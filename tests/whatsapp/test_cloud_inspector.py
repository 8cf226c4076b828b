"""CloudProvider's connection reads (the doctor's Graph calls) against the fake Graph server."""

from __future__ import annotations

import pytest

from xobito.testing.fake_graph import FakeGraphServer
from xobito.whatsapp import CloudProvider, ConnectionInfo, WhatsAppError
from xobito.whatsapp.base import ConnectionInspector
from xobito.whatsapp.cloud import NUMBER_FIELDS


def test_cloud_provider_is_an_inspector() -> None:
    assert isinstance(CloudProvider(), ConnectionInspector)


async def test_phone_number_reads_the_default_fields(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    fake_graph.accounts.add_waba(conn.waba_id, [conn.phone_number_id], quality_rating="YELLOW")
    number = await provider.phone_number(conn, conn.phone_number_id)
    assert number == {
        "id": conn.phone_number_id,
        "display_phone_number": "+1 555-555-0100",
        "verified_name": "Xobito Test",
        "quality_rating": "YELLOW",
    }
    [request] = fake_graph.requests
    assert (request.method, request.path, request.query) == (
        "GET",
        f"/v23.0/{conn.phone_number_id}",
        {},
    )
    assert fake_graph.schema_violations == []


async def test_waba_numbers_follow_every_page(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    ids = [f"1065403522{n:05d}" for n in range(230)]
    fake_graph.accounts.add_waba(conn.waba_id, ids, messaging_limit_tier="TIER_10K")
    numbers = await provider.waba_phone_numbers(conn)
    assert [n["id"] for n in numbers] == ids
    assert set(numbers[0]) == set(NUMBER_FIELDS)
    assert numbers[-1]["messaging_limit_tier"] == "TIER_10K"
    pages = fake_graph.requests_to("phone_numbers")
    assert len(pages) == 3
    assert pages[0].query == {"fields": ",".join(NUMBER_FIELDS), "limit": "100"}
    assert "after" in pages[1].query
    assert fake_graph.schema_violations == []


async def test_subscribed_apps_are_unnested(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    waba = fake_graph.accounts.add_waba(conn.waba_id, [conn.phone_number_id])
    waba.subscribed_apps.append({"id": "2345678901234567", "name": "Support bot"})
    assert await provider.subscribed_apps(conn) == [
        {"id": "1234567890123456", "name": "Xobito"},
        {"id": "2345678901234567", "name": "Support bot"},
    ]
    waba.subscribed_apps.clear()
    assert await provider.subscribed_apps(conn) == []


@pytest.mark.parametrize(
    ("endpoint", "code", "status"),
    [("phone_number", 190, 401), ("phone_numbers", 200, 403), ("subscribed_apps", 10, 403)],
)
async def test_meta_refusals_are_classified_errors(
    fake_graph: FakeGraphServer,
    provider: CloudProvider,
    conn: ConnectionInfo,
    endpoint: str,
    code: int,
    status: int,
) -> None:
    fake_graph.accounts.add_waba(conn.waba_id, [conn.phone_number_id])
    fake_graph.accounts.deny(endpoint, code=code)
    call = {
        "phone_number": lambda: provider.phone_number(conn, conn.phone_number_id),
        "phone_numbers": lambda: provider.waba_phone_numbers(conn),
        "subscribed_apps": lambda: provider.subscribed_apps(conn),
    }[endpoint]
    with pytest.raises(WhatsAppError) as caught:
        await call()
    assert (caught.value.code, caught.value.http_status) == (code, status)
    assert not caught.value.retryable
    assert len(fake_graph.requests) == 1  # not retried


async def test_an_unknown_object_is_metas_code_100_subcode_33(
    fake_graph: FakeGraphServer, provider: CloudProvider, conn: ConnectionInfo
) -> None:
    with pytest.raises(WhatsAppError) as caught:
        await provider.waba_phone_numbers(conn)
    assert caught.value.code == 100
    assert caught.value.raw["error"]["error_subcode"] == 33
    assert "does not exist" in caught.value.message
