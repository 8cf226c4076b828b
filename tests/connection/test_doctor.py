"""``GET /api/admin/workspaces/{subdomain}/whatsapp/doctor``: the connection doctor against
the fake Graph API, one scenario per thing that can be wrong."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete

from tests.connection.conftest import Doctor, by_id, statuses
from tests.factories import Factory
from tests.message.conftest import ACCESS_TOKEN
from xobito.connection.doctor import ORDER
from xobito.kit.time import utcnow
from xobito.models import Message, WhatsAppConnection

HEALTHY = dict.fromkeys(ORDER, "ok")


async def test_a_healthy_connection_is_all_ok(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    r = await doctor.messaging.sync(ct.tenant)
    assert r.status_code == 200
    await doctor.accepted(ct)
    report = await doctor.report(ct.tenant)
    assert [c["id"] for c in report["checks"]] == list(ORDER)
    assert statuses(report) == HEALTHY
    assert report["status"] == "ok"
    assert report["summary"] == "Everything checked is working."
    assert report["provider"] == "cloud"
    assert report["tenant_id"] == ct.tenant.workspace.id
    for check in report["checks"]:
        assert set(check) == {"id", "status", "title", "explanation", "action", "facts"}
        assert check["action"] is None  # nothing to do
    checks = by_id(report)
    assert checks["quality_rating"]["facts"] == {"quality_rating": "GREEN"}
    assert checks["messaging_tier"]["facts"] == {"messaging_limit_tier": "TIER_1K"}
    assert checks["phone_numbers"]["facts"]["missing"] == []
    assert ACCESS_TOKEN not in str(report)
    # the token went to Meta as a bearer header, and every call matched Meta's schema
    reads = [r for r in doctor.graph.requests if r.method == "GET"]
    assert {r.path.rsplit("/", 1)[-1] for r in reads} >= {ct.number, "phone_numbers"}
    assert all(r.headers["authorization"] == f"Bearer {ACCESS_TOKEN}" for r in reads)
    assert doctor.graph.schema_violations == []


async def test_a_new_connection_warns_about_templates_and_webhooks(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    report = await doctor.report(ct.tenant)
    assert report["status"] == "warning"
    assert report["summary"] == "2 warnings found."
    checks = by_id(report)
    assert checks["templates"]["status"] == "warning"
    assert checks["templates"]["title"] == "Templates were never synced"
    assert f"xobito template sync {ct.tenant.workspace.subdomain}" in checks["templates"]["action"]
    assert checks["inbound_webhooks"]["status"] == "warning"
    assert checks["inbound_webhooks"]["title"] == "No webhook from Meta in 24 hours"
    assert "/webhooks/whatsapp" in checks["inbound_webhooks"]["action"]


async def test_an_invalid_token_is_named_and_the_other_meta_checks_skipped(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.access_tokens = {"some-other-token"}  # Meta answers 190 to ours
    report = await doctor.report(ct.tenant)
    assert report["status"] == "error"
    checks = by_id(report)
    token = checks["access_token"]
    assert token["status"] == "error"
    assert token["title"] == "The access token is invalid or expired"
    assert "190" in token["explanation"]
    assert "System User token" in token["action"]
    assert token["facts"] == {"meta_code": 190}
    for skipped in ("phone_numbers", "webhook_subscription", "quality_rating", "messaging_tier"):
        assert checks[skipped]["status"] == "skipped"
        assert "refused the access token" in checks[skipped]["explanation"]
    assert len(doctor.graph.requests) == 1  # nothing more was asked once the token failed


@pytest.mark.parametrize("code", [200, 10])
async def test_a_token_without_permission_on_the_number(doctor: Doctor, code: int) -> None:
    ct = await doctor.healthy()
    doctor.graph.accounts.deny("phone_number", code=code)
    token = await doctor.check(ct.tenant, "access_token")
    assert (token["status"], token["title"]) == ("error", "The access token lacks permissions")
    assert "whatsapp_business_management" in token["action"]
    assert token["facts"] == {"meta_code": code}


async def test_a_token_that_cannot_read_the_waba(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.accounts.deny("phone_numbers", code=200)
    doctor.graph.accounts.deny("subscribed_apps", code=200)
    checks = by_id(await doctor.report(ct.tenant))
    assert checks["access_token"]["status"] == "ok"
    numbers = checks["phone_numbers"]
    assert (numbers["status"], numbers["title"]) == (
        "error",
        f"The access token cannot read WABA {ct.waba_id}",
    )
    assert "Requires whatsapp_business_management permission" in numbers["explanation"]
    assert checks["webhook_subscription"]["status"] == "error"
    # without the WABA's number list there is no tier, but the number's own rating is known
    assert checks["messaging_tier"]["status"] == "skipped"
    assert checks["quality_rating"]["status"] == "ok"


async def test_a_phone_number_id_that_is_not_in_the_waba(doctor: Doctor) -> None:
    ct = await doctor.messaging.cloud_tenant()
    first, second = ct.phone_number_ids
    doctor.graph.accounts.add_waba(ct.waba_id, [first])
    doctor.graph.accounts.add_waba("555000111222333", [second])  # the token sees it elsewhere
    numbers = await doctor.check(ct.tenant, "phone_numbers")
    assert numbers["status"] == "error"
    assert numbers["title"] == f"Phone number id {second} is not in WABA {ct.waba_id}"
    assert f"(id {first})" in numbers["explanation"]
    assert numbers["facts"]["missing"] == [second]
    assert "phone number id (not the phone number itself)" in numbers["action"]


async def test_a_primary_number_meta_does_not_know(doctor: Doctor) -> None:
    ct = await doctor.messaging.cloud_tenant()
    doctor.graph.accounts.add_waba(ct.waba_id, [])  # the WABA exists, the numbers do not
    checks = by_id(await doctor.report(ct.tenant))
    assert checks["access_token"]["status"] == "ok"
    assert "cannot see the primary number" in checks["access_token"]["explanation"]
    assert checks["phone_numbers"]["title"] == (
        f"Phone number ids {', '.join(ct.phone_number_ids)} are not in WABA {ct.waba_id}"
    )
    assert "none" in checks["phone_numbers"]["explanation"]
    assert checks["quality_rating"]["status"] == "skipped"


async def test_an_unknown_waba(doctor: Doctor) -> None:
    ct = await doctor.messaging.cloud_tenant()
    doctor.graph.accounts.add_waba("555000111222333", ct.phone_number_ids)
    checks = by_id(await doctor.report(ct.tenant))
    assert checks["phone_numbers"]["title"] == f"WABA {ct.waba_id} was not found"
    assert checks["webhook_subscription"]["status"] == "error"


async def test_the_app_is_not_subscribed_to_the_wabas_webhooks(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.accounts.waba(ct.waba_id).subscribed_apps.clear()
    sub = await doctor.check(ct.tenant, "webhook_subscription")
    assert sub["status"] == "error"
    assert sub["title"] == "The app is not subscribed to the WABA's webhooks"
    assert "no replies from customers, no delivery statuses" in sub["explanation"]
    assert f"POST /{ct.waba_id}/subscribed_apps" in sub["action"]


async def test_the_connections_app_must_be_the_subscribed_one(doctor: Doctor) -> None:
    ct = await doctor.healthy(numbers=None)
    r = await doctor.client.put(
        f"/api/admin/workspaces/{ct.tenant.workspace.subdomain}/whatsapp",
        json={
            **doctor.messaging.connect_body(ct.phone_number_ids),
            "waba_id": ct.waba_id,
            "app_id": "999000999000999",
        },
        headers=doctor.admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["app_id"] == "999000999000999"
    sub = await doctor.check(ct.tenant, "webhook_subscription")
    assert sub["status"] == "error"
    assert sub["title"] == "Your app 999000999000999 is not subscribed to the WABA's webhooks"
    assert "Xobito (id 1234567890123456)" in sub["explanation"]
    doctor.graph.accounts.waba(ct.waba_id).subscribed_apps.append(
        {"id": "999000999000999", "name": "Mine"}
    )
    sub = await doctor.check(ct.tenant, "webhook_subscription")
    assert sub["status"] == "ok"
    assert sub["explanation"] == f"Your app 999000999000999 receives WABA {ct.waba_id}'s webhooks."


async def test_webhooks_failing_the_signature_check_mean_a_wrong_app_secret(
    doctor: Doctor,
) -> None:
    ct = await doctor.healthy()
    for _ in range(3):
        assert await doctor.webhook(ct.number, "the-secret-meta-really-uses") == 401
    signatures = await doctor.check(ct.tenant, "webhook_signatures")
    assert signatures["status"] == "error"
    assert signatures["title"] == "Webhooks fail the signature check: the app secret is wrong"
    assert signatures["explanation"].startswith("3 webhooks from Meta")
    assert "App Secret" in signatures["action"]
    assert signatures["facts"]["rejected_24h"] == 3
    # some accepted too: perhaps the secret changed since, or someone else posts
    await doctor.accepted(ct)
    signatures = await doctor.check(ct.tenant, "webhook_signatures")
    assert signatures["status"] == "warning"
    assert "while 1 were accepted" in signatures["explanation"]


async def test_another_workspaces_rejected_webhooks_do_not_count(doctor: Doctor) -> None:
    a = await doctor.healthy()
    b = await doctor.healthy()
    assert await doctor.webhook(b.number, "wrong") == 401
    assert (await doctor.check(a.tenant, "webhook_signatures"))["status"] == "ok"
    assert (await doctor.check(b.tenant, "webhook_signatures"))["status"] == "error"


async def test_sent_messages_without_any_webhook_back_is_an_error(
    doctor: Doctor, factory: Factory
) -> None:
    ct = await doctor.healthy()
    contact = await factory.contact(ct.tenant)
    async with doctor.app.state.sessionmaker() as s:
        s.add(
            Message(
                workspace_id=ct.tenant.workspace.id,
                contact_id=contact["id"],
                wamid="wamid.sent-today",
                direction="outbound",
                type="text",
                phone=contact["phone"],
                status="sent",
                sent_at=utcnow() - timedelta(hours=1),
            )
        )
        await s.commit()
    inbound = await doctor.check(ct.tenant, "inbound_webhooks")
    assert inbound["status"] == "error"
    assert inbound["title"] == "No webhook from Meta in 24 hours, though messages were sent"
    assert "None was seen in the last 30 days." in inbound["explanation"]
    await doctor.accepted(ct)
    inbound = await doctor.check(ct.tenant, "inbound_webhooks")
    assert inbound["status"] == "ok"
    assert inbound["facts"]["accepted_24h"] == 1


async def test_templates_synced_but_none_approved(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.templates = [dict(t, status="PENDING") for t in doctor.graph.templates]
    assert (await doctor.messaging.sync(ct.tenant)).status_code == 200
    templates = await doctor.check(ct.tenant, "templates")
    assert (templates["status"], templates["title"]) == ("warning", "No approved template")
    assert templates["facts"]["approved"] == 0
    assert templates["facts"]["templates"] == len(doctor.graph.templates)
    assert templates["facts"]["synced_at"] is not None


@pytest.mark.parametrize(
    ("rating", "status", "title"),
    [
        ("YELLOW", "warning", "Quality rating: medium (yellow)"),
        ("RED", "error", "Quality rating: low (red)"),
        ("NA", "ok", "Quality rating: not rated yet"),
    ],
)
async def test_quality_rating(doctor: Doctor, rating: str, status: str, title: str) -> None:
    ct = await doctor.healthy()
    doctor.graph.accounts.number(ct.number).quality_rating = rating
    quality = await doctor.check(ct.tenant, "quality_rating")
    assert (quality["status"], quality["title"]) == (status, title)
    assert quality["facts"] == {"quality_rating": rating}


@pytest.mark.parametrize(
    ("tier", "status", "title"),
    [
        ("TIER_50", "warning", "Messaging limit: 50 customers a day"),
        ("TIER_250", "warning", "Messaging limit: 250 customers a day"),
        ("TIER_10K", "ok", "Messaging limit: 10,000 customers a day"),
        ("TIER_UNLIMITED", "ok", "Messaging limit: unlimited"),
    ],
)
async def test_messaging_tier(doctor: Doctor, tier: str, status: str, title: str) -> None:
    ct = await doctor.healthy()
    doctor.graph.accounts.number(ct.number).messaging_limit_tier = tier
    check = await doctor.check(ct.tenant, "messaging_tier")
    assert (check["status"], check["title"]) == (status, title)
    assert doctor.graph.schema_violations == []


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("status", "BANNED", "error"),
        ("status", "PENDING", "warning"),
        ("account_mode", "SANDBOX", "warning"),
    ],
)
async def test_a_number_meta_restricts_or_has_not_finished(
    doctor: Doctor, field: str, value: str, status: str
) -> None:
    ct = await doctor.healthy()
    setattr(doctor.graph.accounts.number(ct.number), field, value)
    numbers = await doctor.check(ct.tenant, "phone_numbers")
    assert numbers["status"] == status
    assert f"{ct.number} is" in numbers["explanation"]


async def test_meta_throttling_is_a_warning_to_retry(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.fail_next(3, code=4, endpoint="phone_number")  # every retry throttled too
    token = await doctor.check(ct.tenant, "access_token")
    assert (token["status"], token["title"]) == ("warning", "Access token: Meta is rate limiting")
    assert token["action"] == "Run the check again in a few minutes."


async def test_meta_unreachable(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    doctor.graph.fail_next(3, code=2, endpoint="phone_number")  # 503 service unavailable
    checks = by_id(await doctor.report(ct.tenant))
    assert checks["access_token"]["title"] == "Meta's Graph API cannot be reached"
    assert checks["phone_numbers"]["status"] == "skipped"
    assert "could not be reached" in checks["phone_numbers"]["explanation"]


async def test_missing_credentials(doctor: Doctor) -> None:
    ct = await doctor.healthy()
    async with doctor.app.state.sessionmaker() as s:
        conn = await s.get(WhatsAppConnection, ct.tenant.workspace.id)  # ids match here
        assert conn is not None and conn.workspace_id == ct.tenant.workspace.id
        conn.access_token = None
        conn.app_secret = None
        await s.commit()
    checks = by_id(await doctor.report(ct.tenant))
    assert checks["credentials"]["title"] == "No access token and app secret stored"
    assert checks["access_token"]["status"] == "skipped"
    assert doctor.graph.requests == []


async def test_a_sandbox_workspace_reports_the_sandboxs_truth(
    doctor: Doctor, factory: Factory
) -> None:
    t = await factory.tenant()  # new workspaces are connected to the sandbox
    report = await doctor.report(t)
    assert report["provider"] == "sandbox"
    assert statuses(report) == {
        "connection": "ok",
        "credentials": "skipped",
        "access_token": "skipped",
        "phone_numbers": "ok",
        "webhook_subscription": "skipped",
        "webhook_signatures": "skipped",
        "inbound_webhooks": "skipped",
        "templates": "warning",
        "quality_rating": "skipped",
        "messaging_tier": "skipped",
    }
    assert by_id(report)["connection"]["title"] == "Sandbox provider"
    assert doctor.graph.requests == []


async def test_not_connected(doctor: Doctor, factory: Factory) -> None:
    t = await factory.tenant()
    async with doctor.app.state.sessionmaker() as s:
        await s.execute(
            delete(WhatsAppConnection).where(WhatsAppConnection.workspace_id == t.workspace.id)
        )
        await s.commit()
    report = await doctor.report(t)
    assert report["status"] == "error"
    assert report["provider"] is None
    (only,) = report["checks"]
    assert (only["id"], only["title"]) == ("connection", "Not connected to WhatsApp")


async def test_unknown_workspace_and_missing_admin_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    r = await client.get("/api/admin/workspaces/nope/whatsapp/doctor", headers=admin_headers)
    assert r.status_code == 404
    assert r.json() == {"status": "error", "message": "Workspace not found"}
    r = await client.get("/api/admin/workspaces/nope/whatsapp/doctor")
    assert r.status_code == 401
