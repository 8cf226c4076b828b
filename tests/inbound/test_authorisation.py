"""What a webhook's signature authorises: each change reaches only the workspaces whose app
secret verified it (or every workspace, for the app-level secret), never another tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from sqlalchemy import insert
from structlog.testing import capture_logs

from tests.inbound.conftest import (
    Line,
    Meta,
    add_template,
    template_statuses,
    template_update,
)
from xobito.kit.time import utcnow
from xobito.models import InboxEvent
from xobito.testing.meta_webhooks import (
    StatusUpdate,
    build_status_webhook,
    build_text_message_webhook,
)

TEMPLATE = "987654321"


def hello(line: Line, body: str = "hello") -> dict[str, Any]:
    return build_text_message_webhook(
        "16505551234", body, phone_number_id=line.phone_number_id, waba_id=line.waba_id
    )


def disable_via_own_number(attacker: Line, victim_waba: str) -> dict[str, Any]:
    """A template update naming the victim's WABA in ``entry.id`` and the attacker's number in
    ``metadata``: the number picks the attacker's secret as the one that must sign."""
    payload = template_update(victim_waba, int(TEMPLATE), "DISABLED")
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"] = {"phone_number_id": attacker.phone_number_id}
    return payload


def not_authorised(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "inbound_change_not_authorised"]


async def test_a_template_update_naming_another_workspaces_waba_changes_nothing(
    meta: Meta, app: FastAPI
) -> None:
    victim = await meta.line()
    attacker = await meta.line()
    await add_template(app, victim, TEMPLATE, "APPROVED")
    await add_template(app, attacker, TEMPLATE, "APPROVED")
    payload = disable_via_own_number(attacker, victim.waba_id)
    with capture_logs() as logs:
        await meta.post(payload, attacker.app_secret)
        await meta.drain()
    assert await template_statuses(meta) == {
        victim.workspace_id: "APPROVED",
        attacker.workspace_id: "APPROVED",  # entry.id is not the attacker's WABA either
    }
    (logged,) = not_authorised(logs)
    assert logged["waba_id"] == victim.waba_id
    assert logged["field"] == "message_template_status_update"
    (row,) = await meta.inbox()
    assert row.error is None
    assert row.notes == (
        f"message_template_status_update change for WABA {victim.waba_id} "
        f"(template_id {TEMPLATE}) not applied: not signed by its app"
    )


async def test_a_waba_change_smuggled_next_to_own_messages_is_dropped_alone(
    meta: Meta, app: FastAPI
) -> None:
    victim = await meta.line()
    attacker = await meta.line()
    await add_template(app, victim, TEMPLATE, "APPROVED")
    payload = hello(attacker, "my own message")
    payload["entry"] += disable_via_own_number(attacker, victim.waba_id)["entry"]
    await meta.deliver(payload, attacker.app_secret)
    await meta.drain()
    assert [m.text for m in await meta.messages(attacker.workspace_id)] == ["my own message"]
    assert (await template_statuses(meta))[victim.workspace_id] == "APPROVED"


async def test_a_waba_shared_by_two_apps_is_updated_for_the_signing_app_only(
    meta: Meta, app: FastAPI
) -> None:
    """Two workspaces on one WABA through two Meta apps: each app's delivery is signed with
    its own secret and changes its own workspace's templates."""
    first = await meta.line(waba_id="419561257910001")
    second = await meta.line(waba_id="419561257910001")
    await add_template(app, first, TEMPLATE, "PENDING")
    await add_template(app, second, TEMPLATE, "PENDING")
    await meta.deliver(template_update(first.waba_id, int(TEMPLATE), "APPROVED"), first.app_secret)
    await meta.drain()
    assert await template_statuses(meta) == {
        first.workspace_id: "APPROVED",
        second.workspace_id: "PENDING",
    }
    await meta.deliver(template_update(first.waba_id, int(TEMPLATE), "REJECTED"), second.app_secret)
    await meta.drain()
    assert await template_statuses(meta) == {
        first.workspace_id: "APPROVED",
        second.workspace_id: "REJECTED",
    }


async def test_workspaces_of_one_app_on_one_waba_all_get_its_update(
    meta: Meta, app: FastAPI
) -> None:
    first = await meta.line(waba_id="419561257910002", app_secret="one-app")
    second = await meta.line(waba_id="419561257910002", app_secret="one-app")
    await add_template(app, first, TEMPLATE, "PENDING")
    await add_template(app, second, TEMPLATE, "PENDING")
    await meta.deliver(template_update(first.waba_id, int(TEMPLATE), "APPROVED"), "one-app")
    await meta.drain()
    assert set((await template_statuses(meta)).values()) == {"APPROVED"}


async def test_the_app_level_secret_reaches_every_workspace_a_change_names(
    meta: Meta, app: FastAPI, app_settings: Callable[..., None]
) -> None:
    line = await meta.line()
    other = await meta.line()
    await add_template(app, line, TEMPLATE, "PENDING")
    await add_template(app, other, TEMPLATE, "PENDING")
    app_settings(meta_app_secret="the-platform-app-secret")
    payload = disable_via_own_number(other, line.waba_id)  # the platform may say anything
    await meta.deliver(payload, "the-platform-app-secret")
    await meta.drain()
    assert await template_statuses(meta) == {
        line.workspace_id: "DISABLED",
        other.workspace_id: "PENDING",
    }
    assert [e.verified_for for e in await meta.inbox()] == ["*"]


async def test_the_verifying_workspaces_are_stored_with_the_body(meta: Meta) -> None:
    first = await meta.line(app_secret="shared-app")
    second = await meta.line(app_secret="shared-app")
    payload = hello(second)
    payload["entry"] += hello(first)["entry"]
    await meta.deliver(payload, "shared-app")
    assert [e.verified_for for e in await meta.inbox()] == [
        sorted([first.workspace_id, second.workspace_id])
    ]
    await meta.drain()
    assert len(await meta.messages(first.workspace_id)) == 1
    assert len(await meta.messages(second.workspace_id)) == 1


async def test_a_number_moved_after_acceptance_never_reaches_its_new_workspace(
    meta: Meta,
) -> None:
    """Accepted with A's secret while A owned the number; B owns it when the worker runs."""
    line_a = await meta.line()
    await meta.deliver(hello(line_a, "for A"), line_a.app_secret)
    await reconnect(meta, line_a, phone_number_ids=["106540352240999"])
    line_b = await meta.line(phone_number_id=line_a.phone_number_id)
    with capture_logs() as logs:
        await meta.drain()
    assert await meta.messages() == []
    assert await meta.contacts(line_b.workspace_id) == []
    (logged,) = not_authorised(logs)
    assert logged["phone_number_id"] == line_a.phone_number_id
    (row,) = await meta.inbox()
    assert row.notes is not None and line_a.phone_number_id in row.notes


async def test_a_status_for_another_workspaces_message_moves_nothing(meta: Meta) -> None:
    victim = await meta.line()
    attacker = await meta.line()
    await meta.outbound(victim, "wamid.VICTIM-1")
    payload = build_status_webhook(
        [StatusUpdate("wamid.VICTIM-1", "failed", "14155550100", timestamp=1750000000)],
        phone_number_id=attacker.phone_number_id,
        waba_id=victim.waba_id,
    )
    await meta.deliver(payload, attacker.app_secret)
    for _ in range(6):
        await meta.make_jobs_due()
        await meta.drain()
    assert (await meta.message("wamid.VICTIM-1")).status == "sent"


async def test_rows_stored_before_the_scope_was_recorded_stay_within_their_signers(
    meta: Meta, app: FastAPI
) -> None:
    """An inbox row written by an older version (no record of its verification) is held to
    what that version verified: the workspaces its routing keys reached."""
    victim = await meta.line()
    attacker = await meta.line()
    await add_template(app, victim, TEMPLATE, "APPROVED")
    bodies = [disable_via_own_number(attacker, victim.waba_id), hello(attacker, "legacy")]
    async with app.state.sessionmaker() as s:
        rows = [{"body": orjson.dumps(b), "received_at": utcnow(), "attempts": 0} for b in bodies]
        await s.execute(insert(InboxEvent), rows)
        await s.commit()
    await meta.drain()
    assert (await template_statuses(meta))[victim.workspace_id] == "APPROVED"
    assert [m.text for m in await meta.messages(attacker.workspace_id)] == ["legacy"]
    assert all(e.processed_at is not None and e.error is None for e in await meta.inbox())


async def reconnect(meta: Meta, line: Line, **change: object) -> None:
    body = {
        "provider": "cloud",
        "waba_id": line.waba_id,
        "phone_number_ids": [line.phone_number_id],
        "access_token": "EAAG-token",
        "app_secret": line.app_secret,
        **change,
    }
    url = f"/api/admin/workspaces/{line.tenant.workspace.subdomain}/whatsapp"
    resp = await meta.client.put(url, json=body, headers=meta.admin)
    assert resp.status_code == 200, resp.text
