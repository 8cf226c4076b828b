"""Webhook traffic counts (``inbound.traffic``): accepted and signature-rejected deliveries
per workspace and hour, kept cheaply and bounded whatever an unauthenticated caller sends."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select

from tests.inbound.conftest import Meta
from xobito.inbound.repository import TrafficRepository
from xobito.inbound.scope import EVERYONE, Scope
from xobito.inbound.traffic import TrafficRecorder, hour_of
from xobito.kit.time import utcnow
from xobito.models import InboxEvent, WebhookTraffic
from xobito.testing.meta_webhooks import StatusUpdate, build_status_webhook


def status_for(number: str, waba: str = "419561257910000") -> dict[str, object]:
    return build_status_webhook(
        [StatusUpdate("wamid.x", "delivered", "14155550100")],
        phone_number_id=number,
        waba_id=waba,
    )


async def rows(meta: Meta) -> list[WebhookTraffic]:
    return await meta.scalars(select(WebhookTraffic).order_by(WebhookTraffic.workspace_id))


async def test_rejected_and_accepted_deliveries_are_counted_per_workspace(
    meta: Meta, app: FastAPI
) -> None:
    a = await meta.line()
    b = await meta.line()
    for _ in range(3):
        assert (await meta.post(status_for(a.phone_number_id), "wrong-secret")).status_code == 401
    assert (await meta.post(status_for(a.phone_number_id), None)).status_code == 401  # unsigned
    await meta.deliver(status_for(a.phone_number_id), a.app_secret)
    await meta.deliver(status_for(b.phone_number_id), b.app_secret)
    assert await app.state.webhook_traffic.flush() == 2
    found = {r.workspace_id: r for r in await rows(meta)}
    assert (found[a.workspace_id].rejected, found[a.workspace_id].accepted) == (4, 1)
    assert (found[b.workspace_id].rejected, found[b.workspace_id].accepted) == (0, 1)
    assert found[a.workspace_id].hour == hour_of(utcnow())
    assert found[a.workspace_id].last_rejected_at is not None
    assert found[b.workspace_id].last_rejected_at is None
    # only the two accepted bodies were stored; the rejected ones are counts alone
    assert await meta.count(InboxEvent) == 2


async def test_flushes_add_up_in_the_same_hour(meta: Meta, app: FastAPI) -> None:
    a = await meta.line()
    await meta.post(status_for(a.phone_number_id), "wrong")
    await app.state.webhook_traffic.flush()
    await meta.post(status_for(a.phone_number_id), "wrong")
    await meta.post(status_for(a.phone_number_id), "wrong")
    await app.state.webhook_traffic.flush()
    (row,) = await rows(meta)
    assert row.rejected == 3


async def test_unknown_numbers_and_unparseable_bodies_write_nothing(
    meta: Meta, app: FastAPI
) -> None:
    await meta.line()
    for n in range(50):  # numbers and WABAs no workspace has
        payload = status_for(f"99999999{n:04d}", waba=f"88888888{n:04d}")
        assert (await meta.post(payload, "guess")).status_code == 401
    assert (await meta.post(None, "guess", raw=b"not json")).status_code == 401
    assert (await meta.post({"entry": "nope"}, "guess")).status_code == 401
    assert await app.state.webhook_traffic.flush() == 0
    assert await rows(meta) == []


async def test_a_change_without_a_number_counts_for_the_wabas_workspaces(meta: Meta) -> None:
    a = await meta.line()
    recorder = TrafficRecorder(meta.app.state.sessionmaker)
    template_update = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": a.waba_id,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {"event": "APPROVED", "message_template_id": 1},
                    }
                ],
            }
        ],
    }
    recorder.rejected(template_update)
    recorder.rejected(template_update)
    assert await recorder.flush() == 1
    (row,) = await rows(meta)
    assert (row.workspace_id, row.rejected) == (a.workspace_id, 2)
    await recorder.close()


async def test_one_delivery_naming_two_numbers_of_a_workspace_counts_once(meta: Meta) -> None:
    a = await meta.line()
    recorder = TrafficRecorder(meta.app.state.sessionmaker)
    payload = status_for(a.phone_number_id)
    second = status_for("12345")["entry"]  # type: ignore[index]
    payload["entry"] = [*payload["entry"], *second]  # type: ignore[misc]
    recorder.accepted(payload)
    await recorder.flush()
    (row,) = await rows(meta)
    assert row.accepted == 1
    await recorder.close()


async def test_pending_key_sets_are_bounded(meta: Meta) -> None:
    a = await meta.line()
    recorder = TrafficRecorder(meta.app.state.sessionmaker, max_keys=3)
    for n in range(10):
        recorder.rejected(status_for(f"7777{n}"))  # ten different key sets, unknown numbers
    recorder.rejected(status_for(a.phone_number_id))  # past the bound: dropped too
    assert recorder.dropped == 8
    recorder.rejected(status_for("77770"))  # a key set already waiting still counts
    assert recorder.dropped == 8
    assert await recorder.flush() == 0  # the three waiting name no workspace
    recorder.rejected(status_for(a.phone_number_id))  # after a write, room again
    assert await recorder.flush() == 1
    await recorder.close()


async def test_the_timer_writes_without_being_asked(meta: Meta) -> None:
    a = await meta.line()
    recorder = TrafficRecorder(meta.app.state.sessionmaker, interval=0.01)
    recorder.rejected(status_for(a.phone_number_id))
    timer = recorder._timer
    assert timer is not None
    await timer  # the timer's own write, not a flush() call
    (row,) = await rows(meta)
    assert row.rejected == 1
    await recorder.close()


async def test_summary_and_purge(meta: Meta) -> None:
    a = await meta.line()
    now = utcnow()
    recorder = TrafficRecorder(meta.app.state.sessionmaker, clock=lambda: now - timedelta(days=40))
    recorder.rejected(status_for(a.phone_number_id))
    await recorder.flush()
    recorder.clock = lambda: now - timedelta(hours=2)
    recorder.accepted(status_for(a.phone_number_id))
    recorder.rejected(status_for(a.phone_number_id))
    await recorder.flush()
    async with meta.app.state.sessionmaker() as s:
        repo = TrafficRepository(s)
        day = await repo.since(a.workspace_id, now - timedelta(hours=24))
        assert (day.accepted, day.rejected) == (1, 1)
        assert day.last_accepted_at == now - timedelta(hours=2)
        ever = await repo.since(a.workspace_id, now - timedelta(days=60))
        assert ever.rejected == 2
        assert await repo.purge(now - timedelta(days=30)) == 1
        await s.commit()
    assert len(await rows(meta)) == 1
    await recorder.close()


async def test_an_accepted_delivery_counts_only_where_its_signature_verified(meta: Meta) -> None:
    a = await meta.line(waba_id="419561257900001")
    b = await meta.line(waba_id="419561257900001")  # two workspaces on one WABA
    recorder = TrafficRecorder(meta.app.state.sessionmaker)
    by_waba = {
        "object": "whatsapp_business_account",
        "entry": [{"id": a.waba_id, "changes": [{"field": "account_update", "value": {}}]}],
    }
    recorder.accepted(by_waba, Scope.of({a.workspace_id}))  # only a's secret signed it
    recorder.accepted(by_waba, EVERYONE)  # the app-level secret speaks for both
    await recorder.flush()
    found = {r.workspace_id: r.accepted for r in await rows(meta)}
    assert found == {a.workspace_id: 2, b.workspace_id: 1}
    await recorder.close()
