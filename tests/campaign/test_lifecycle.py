"""A campaign's life: scheduled start (fake clock), pause, resume, cancel, results from
Meta's status webhooks and replies, STOP and START, and its outbound webhooks."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson

from tests.campaign.conftest import Campaigns, until
from tests.message.conftest import CloudTenant
from tests.webhook.conftest import Receiver
from xobito.app import create_app
from xobito.inbound.repository import InboxRepository
from xobito.inbound.scope import EVERYONE
from xobito.kit.time import utcnow
from xobito.whatsapp.webhooks import status_payload


def digits(phone: str) -> str:
    return phone.lstrip("+")


async def statuses(campaigns: Campaigns, ct: CloudTenant, wamid: str, phone: str,
                   *names: str) -> None:
    """Meta's status webhooks for one message, through the inbox and the worker."""
    async with campaigns.app.state.sessionmaker() as s:
        for name in names:
            body = status_payload(waba_id=ct.waba_id, phone_number_id=ct.number, wamid=wamid,
                                  status=name, recipient_id=digits(phone))
            await InboxRepository(s).add(orjson.dumps(body), EVERYONE)
        await s.commit()
    await campaigns.app.state.worker.drain()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


async def test_a_scheduled_campaign_starts_at_its_time(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    await campaigns.contacts(ct, 2)
    at = utcnow() + timedelta(hours=3)
    created = await campaigns.create(ct, scheduled_at=at.isoformat())
    clock = Clock()
    engine = campaigns.engine(clock=clock)
    await engine.drain()
    assert (await campaigns.show(ct, created["id"]))["state"] == "scheduled"
    assert campaigns.graph.sent == []
    clock.now = at - timedelta(seconds=1)
    await engine.drain()
    assert (await campaigns.show(ct, created["id"]))["state"] == "scheduled"
    clock.now = at
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed" and shown["counts"]["sent"] == 2


async def test_pause_resume_and_cancel_mid_campaign(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    phones = await campaigns.many_contacts(ct, 40)
    created = await campaigns.create(ct, rate_per_second=20)
    engine = campaigns.engine()
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop))
    try:
        await until(lambda: len(campaigns.graph.sent) >= 5)
        r = await campaigns.post(ct, created["id"], "pause")
        assert r.status_code == 200 and r.json()["data"]["state"] == "paused"
        # Sends already past their mark finish; then nothing new starts (proving an
        # absence takes waiting: several of the engine's 50 ms ticks).
        await until(lambda: not engine.sends)
        paused_at = len(campaigns.graph.sent)
        await asyncio.sleep(0.5)
        assert len(campaigns.graph.sent) == paused_at < 40
        r = await campaigns.post(ct, created["id"], "resume")
        assert r.json()["data"]["state"] == "running"
        await until(lambda: len(campaigns.graph.sent) >= paused_at + 5)
        r = await campaigns.post(ct, created["id"], "cancel")
        assert r.json()["data"]["state"] == "cancelled"
        await until(lambda: not engine.sends)
        cancelled_at = len(campaigns.graph.sent)
        await asyncio.sleep(0.5)
        assert len(campaigns.graph.sent) == cancelled_at < 40
    finally:
        stop.set()
        await running
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "cancelled"
    rows = await campaigns.recipients(created["id"])
    assert {r.state for r in rows} <= {"sent", "cancelled"}
    assert sum(r.state == "sent" for r in rows) == len(campaigns.graph.sent)
    assert set(campaigns.graph.sent_counts().values()) == {1}
    assert set(campaigns.graph.sent_counts()) <= {digits(p) for p in phones}


async def test_statuses_move_recipients_forward_only_and_replies_count(
    campaigns: Campaigns,
) -> None:
    ct = await campaigns.tenant()
    a, b = await campaigns.contacts(ct, 2)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    rows = {r.phone: r for r in await campaigns.recipients(created["id"])}
    await statuses(campaigns, ct, str(rows[a["phone"]].wamid), a["phone"], "read", "delivered")
    await statuses(campaigns, ct, str(rows[b["phone"]].wamid), b["phone"], "delivered")
    await campaigns.messaging.cloud_inbound(ct, a["phone"], "Tell me more")
    shown = await campaigns.show(ct, created["id"])
    assert shown["counts"] | {} == {
        "total": 2, "excluded": 0, "sent": 2, "delivered": 2, "read": 1, "failed": 0,
        "replied": 1, "pending": 0,
    }
    rows = {r.phone: r for r in await campaigns.recipients(created["id"])}
    assert rows[a["phone"]].state == "read", "a late 'delivered' does not move it back"
    assert rows[a["phone"]].replied_at is not None and rows[b["phone"]].replied_at is None
    await statuses(campaigns, ct, str(rows[b["phone"]].wamid), b["phone"], "failed")
    assert (await campaigns.recipients(created["id"]))[1].state == "delivered"


async def test_stop_opts_out_and_confirms_start_opts_back_in(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    (person,) = await campaigns.contacts(ct, 1)
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "  Stop! ")
    contact = await campaigns.messaging.contact(ct.tenant, person["phone"])
    assert contact is not None and contact.is_opted_out
    (confirmation,) = campaigns.graph.sent
    assert confirmation.body["type"] == "text"
    assert confirmation.body["text"]["body"].startswith("You have been unsubscribed")
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["counts"]["sent"] == 0 and shown["exclusions"]["opted_out"] == 1
    assert len(campaigns.graph.sent) == 1, "no campaign message to an opted-out contact"
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "start")
    contact = await campaigns.messaging.contact(ct.tenant, person["phone"])
    assert contact is not None and not contact.is_opted_out
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    assert (await campaigns.show(ct, created["id"]))["counts"]["sent"] == 1


async def test_the_confirmation_goes_through_this_apps_provider_when_another_app_exists(
    campaigns: Campaigns,
) -> None:
    """Another app in the process (a second server, a CLI command) keeps its own providers:
    this app's worker sends the confirmation through this app's (the fake Graph here)."""
    other = create_app(campaigns.settings)
    assert other.state.providers is not campaigns.app.state.providers
    ct = await campaigns.tenant()
    (person,) = await campaigns.contacts(ct, 1)
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "STOP")
    assert [m.body["to"] for m in campaigns.graph.sent] == [digits(person["phone"])]


async def test_workspace_keywords_ignore_case_and_accents(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    (person,) = await campaigns.contacts(ct, 1)
    r = await campaigns.client.put(
        ct.tenant.url("/campaigns/opt-out"),
        json={"stop_keywords": ["Désabonner", "BAJA"], "stop_reply": "Adieu.",
              "start_keywords": ["Alta"]},
        headers=ct.tenant.headers,
    )
    assert r.status_code == 200, r.text
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "STOP")
    contact = await campaigns.messaging.contact(ct.tenant, person["phone"])
    assert contact is not None and not contact.is_opted_out, "STOP is no longer a keyword"
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "desabonner")
    contact = await campaigns.messaging.contact(ct.tenant, person["phone"])
    assert contact is not None and contact.is_opted_out
    assert [m.body["text"]["body"] for m in campaigns.graph.sent] == ["Adieu."]
    await campaigns.messaging.cloud_inbound(ct, person["phone"], "ALTA")
    contact = await campaigns.messaging.contact(ct.tenant, person["phone"])
    assert contact is not None and not contact.is_opted_out
    r = await campaigns.client.put(
        ct.tenant.url("/campaigns/opt-out"), json={"start_keywords": ["baja"]},
        headers=ct.tenant.headers,
    )
    assert r.status_code == 422
    assert r.json()["errors"] == {"start_keywords": ["The keyword baja is also a stop keyword."]}


async def test_started_paused_completed_webhooks_carry_counts(
    campaigns: Campaigns, receiver: Receiver, admin_headers: dict[str, str]
) -> None:
    ct = await campaigns.tenant()
    await campaigns.contacts(ct, 2)
    r = await campaigns.client.post(
        f"/api/admin/workspaces/{ct.tenant.workspace.subdomain}/webhooks",
        json={"url": receiver.url("/campaigns"),
              "events": ["campaign.started", "campaign.paused", "campaign.completed"]},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    created = await campaigns.create(ct, draft=True)
    r = await campaigns.post(ct, created["id"], "start")
    assert r.json()["data"]["state"] == "scheduled"
    await campaigns.engine().drain()
    dispatcher = campaigns.app.state.dispatcher
    for _ in range(20):
        if not await dispatcher.run_once():
            break
    await receiver.wait_for(2)
    hits = receiver.at("/campaigns")
    bodies = [h.json for h in hits]
    assert [b["event"] for b in bodies] == ["campaign.started", "campaign.completed"]
    started, completed = (b["data"] for b in bodies)
    assert started["id"] == created["id"] and started["counts"]["pending"] == 2
    assert completed["state"] == "completed" and completed["counts"]["sent"] == 2
