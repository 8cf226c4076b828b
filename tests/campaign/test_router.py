"""``/campaigns``: validation in the spec's style, reads, abilities, tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from tests.campaign.conftest import Campaigns
from xobito.kit.time import utcnow


async def test_create_reports_every_missing_field_at_once(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    r = await campaigns.client.post(
        ct.tenant.url("/campaigns"), json={}, headers=ct.tenant.headers
    )
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == "Validation failed"
    assert body["errors"]["name"] == ["The name field is required."]
    assert body["errors"]["template_name"] == ["The template name field is required."]
    assert body["errors"]["template_language"] == ["The template language field is required."]
    assert body["errors"]["audience"] == [
        "The audience field is required when csv file is not present."
    ]


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        ({"template_name": "nope"}, "template_name",
         "The selected template is not available or not approved."),
        ({"variables": {"field_1": "x"}}, "variables.field_2",
         "The variables.field 2 field is required by this template."),
        ({"variables": {"field_1": {"type": "contact", "field": "shoe"}, "field_2": "x"}},
         "variables.field_1.field", "The selected variables.field 1.field is invalid."),
        ({"variables": {"field_1": "a", "field_2": "b", "field_3": "c"}}, "variables.field_3",
         "The template takes 2 body variables."),
        ({"rate_per_second": 1001}, "rate_per_second",
         "The rate per second may not be greater than 1000."),
        ({"rate_per_second": 0}, "rate_per_second", "The rate per second must be at least 1."),
        ({"timezone": "Mars/Olympus"}, "timezone", "The timezone must be a valid zone."),
        ({"scheduled_at": "2001-01-01T10:00:00"}, "scheduled_at",
         "The scheduled at must be a date after now."),
        ({"scheduled_at": "tomorrow"}, "scheduled_at", "The scheduled at is not a valid date."),
        ({"audience": {"group_ids": [999999]}}, "audience.group_ids.0",
         "The selected audience.group ids.0 is invalid."),
        ({"audience": {}}, "audience",
         "The audience must name groups, statuses, sources, types, contact ids or all."),
        ({"name": "x" * 256}, "name", "The name may not be greater than 255 characters."),
    ],
)
async def test_create_refuses_bad_input_with_the_spec_message(
    campaigns: Campaigns, change: dict[str, object], key: str, message: str
) -> None:
    ct = await campaigns.tenant()
    body = {
        "name": "Sale",
        "template_name": "promo",
        "template_language": "en_US",
        "variables": {"field_1": "a", "field_2": "b"},
        "audience": {"all": True},
        **change,
    }
    url, headers = ct.tenant.url("/campaigns"), ct.tenant.headers
    r = await campaigns.client.post(url, json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][key] == [message]


async def test_coexistence_numbers_send_at_most_20_per_second(campaigns: Campaigns) -> None:
    ct = await campaigns.messaging.cloud_tenant()
    await campaigns.messaging.template(ct.tenant, "promo")
    url = ct.tenant.url(f"/campaigns/numbers/{ct.number}")
    r = await campaigns.client.get(url, headers=ct.tenant.headers)
    assert r.json()["data"] == {
        "phone_number_id": ct.number, "rate_per_second": 80, "max_rate_per_second": 1000,
        "coexistence": 0,
    }
    body = {"name": "Sale", "template_name": "promo", "template_language": "en_US",
            "variables": {"field_1": "a", "field_2": "b"}, "audience": {"all": True},
            "rate_per_second": 81}
    r = await campaigns.client.post(ct.tenant.url("/campaigns"), json=body,
                                    headers=ct.tenant.headers)
    assert r.json()["errors"] == {
        "rate_per_second": ["The rate per second may not be greater than 80."]
    }, "a number's campaigns send at most its rate (Meta's default 80/s)"
    r = await campaigns.client.put(url, json={"coexistence": True}, headers=ct.tenant.headers)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["rate_per_second"] == 20
    r = await campaigns.client.put(url, json={"rate_per_second": 50}, headers=ct.tenant.headers)
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "rate_per_second": ["The rate per second may not be greater than 20."]
    }
    del body["rate_per_second"]
    r = await campaigns.client.post(ct.tenant.url("/campaigns"), json=body,
                                    headers=ct.tenant.headers)
    assert r.status_code == 201
    assert r.json()["data"]["rate_per_second"] == 20
    r = await campaigns.client.post(ct.tenant.url("/campaigns"),
                                    json={**body, "rate_per_second": 21},
                                    headers=ct.tenant.headers)
    assert r.json()["errors"] == {
        "rate_per_second": ["The rate per second may not be greater than 20."]
    }
    r = await campaigns.client.get(ct.tenant.url("/campaigns/numbers/123"),
                                   headers=ct.tenant.headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Phone number not found"}


async def test_default_rate_is_80_and_schedule_reads_the_zone(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant(rate=80)
    local = (utcnow() + timedelta(days=2)).replace(tzinfo=None, microsecond=0)
    created = await campaigns.create(
        ct, rate_per_second=None, scheduled_at=local.isoformat(), timezone="Asia/Kolkata"
    )
    assert created["rate_per_second"] == 80
    assert created["timezone"] == "Asia/Kolkata"
    expected = local - timedelta(hours=5, minutes=30)
    assert created["scheduled_at"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


async def test_reads_list_show_recipients_report(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 3)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    h = ct.tenant.headers
    r = await campaigns.client.get(ct.tenant.url("/campaigns"), headers=h)
    page = r.json()["data"]
    assert page["total"] == 1 and page["data"][0]["id"] == created["id"]
    assert page["data"][0]["counts"]["sent"] == 3
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/recipients?per_page=2"), headers=h
    )
    first = r.json()["data"]
    assert len(first["data"]) == 2 and first["next_cursor"] is not None
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/recipients?per_page=2"
                      f"&cursor={first['next_cursor']}"),
        headers=h,
    )
    second = r.json()["data"]
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    phones = {x["phone"] for x in first["data"] + second["data"]}
    assert phones == {p["phone"] for p in people}
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/recipients?state=failed"), headers=h
    )
    assert r.json()["data"]["data"] == []
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/report.csv"), headers=h
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["phone"] for row in rows} == phones
    assert {row["state"] for row in rows} == {"sent"}
    assert all(row["message_id"].startswith("wamid.") for row in rows)


async def test_missing_ability_is_403(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    token = await campaigns.factory.token(ct.tenant.workspace, abilities=["contacts.read"])
    r = await campaigns.client.get(
        ct.tenant.url("/campaigns"), headers={"Authorization": f"Bearer {token[0]}"}
    )
    assert r.status_code == 403
    assert r.json()["message"] == "Token does not have the required ability: campaigns.read"


ROUTES = [
    ("GET", ""),
    ("GET", "/recipients"),
    ("GET", "/failures"),
    ("GET", "/report.csv"),
    ("POST", "/start"),
    ("POST", "/pause"),
    ("POST", "/resume"),
    ("POST", "/cancel"),
    ("POST", "/retry-failed"),
    ("DELETE", ""),
]


async def test_workspace_b_gets_404_for_every_route_of_a_campaign_of_a(
    campaigns: Campaigns,
) -> None:
    a = await campaigns.tenant()
    b = await campaigns.tenant()
    created = await campaigns.create(a)
    for method, suffix in ROUTES:
        r = await campaigns.client.request(
            method, b.tenant.url(f"/campaigns/{created['id']}{suffix}"), headers=b.tenant.headers
        )
        assert r.status_code == 404, (method, suffix, r.text)
        assert r.json() == {"status": "error", "message": "Campaign not found"}
    r = await campaigns.client.get(b.tenant.url("/campaigns"), headers=b.tenant.headers)
    assert r.json()["data"]["total"] == 0
    r = await campaigns.client.get(
        b.tenant.url(f"/campaigns/numbers/{a.number}"), headers=b.tenant.headers
    )
    assert r.status_code == 404
    # A's campaign is untouched by B's attempts.
    assert (await campaigns.show(a, created["id"]))["state"] == "scheduled"


async def test_state_changes_answer_409_when_they_do_not_apply(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    created = await campaigns.create(ct)
    r = await campaigns.post(ct, created["id"], "resume")
    assert r.status_code == 409
    assert r.json() == {"status": "error", "message": "A scheduled campaign cannot be resumed."}
    r = await campaigns.post(ct, created["id"], "retry-failed")
    assert r.status_code == 409
    r = await campaigns.post(ct, created["id"], "cancel")
    assert r.status_code == 200 and r.json()["data"]["state"] == "cancelled"
    r = await campaigns.post(ct, created["id"], "pause")
    assert r.status_code == 409


async def test_delete_removes_a_campaign_not_running(
    campaigns: Campaigns, client: httpx.AsyncClient
) -> None:
    ct = await campaigns.tenant()
    created = await campaigns.create(ct, draft=True)
    assert created["state"] == "draft"
    r = await client.delete(ct.tenant.url(f"/campaigns/{created['id']}"), headers=ct.tenant.headers)
    assert r.status_code == 200
    r = await client.get(ct.tenant.url(f"/campaigns/{created['id']}"), headers=ct.tenant.headers)
    assert r.status_code == 404


async def test_the_schema_documents_every_answer_of_state_changes_and_the_report(
    client: httpx.AsyncClient,
) -> None:
    """Found by fuzzing: a state change refused by the campaign's state answers 409, and an
    unknown campaign's report 404 (its schema listed only 200 and 422)."""
    paths = (await client.get("/openapi.json")).json()["paths"]
    base = "/api/v1/{subdomain}/campaigns/{campaign_id}"
    for action in ("start", "pause", "resume", "cancel", "retry-failed"):
        assert "409" in paths[f"{base}/{action}"]["post"]["responses"], action
    assert "409" in paths[base]["delete"]["responses"]
    report = paths[f"{base}/report.csv"]["get"]["responses"]
    assert {"200", "404", "422"} <= set(report)
    assert "text/csv" in report["200"]["content"]
