"""What a campaign does with each of Meta's answers (fake Graph API over real HTTP)."""

from __future__ import annotations

import asyncio

from tests.campaign.conftest import Campaigns
from xobito.campaign.outcomes import UNKNOWN_OUTCOME
from xobito.campaign.pacing import number_key


def digits(phone: str) -> str:
    return phone.lstrip("+")


async def test_131047_fails_only_that_recipient_with_the_reason(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 4)
    refused = digits(people[1]["phone"])
    campaigns.graph.fail_for_to[refused] = (400, 131047, None)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed"
    assert shown["counts"]["sent"] == 3 and shown["counts"]["failed"] == 1
    rows = {r.phone: r for r in await campaigns.recipients(created["id"])}
    failed = rows[people[1]["phone"]]
    assert failed.state == "failed" and failed.error_code == 131047
    assert failed.error_message == "131047: Re-engagement message"
    assert not failed.retryable
    counts = campaigns.graph.sent_counts()
    assert refused not in counts
    assert all(counts[digits(p["phone"])] == 1 for p in people if digits(p["phone"]) != refused)
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/failures"), headers=ct.tenant.headers
    )
    assert r.json()["data"] == [
        {"error_code": 131047, "error_message": "131047: Re-engagement message", "count": 1}
    ]
    messages = await campaigns.messages(ct.tenant.workspace.id)
    assert sorted(m.status for m in messages) == ["failed", "sent", "sent", "sent"]


async def test_failures_are_grouped_by_code_most_frequent_first_then_by_code(
    campaigns: Campaigns,
) -> None:
    ct = await campaigns.tenant()
    people = [digits(p["phone"]) for p in await campaigns.contacts(ct, 5)]
    for wa_id, code in zip(people, (131047, 132000, 131026, 131026), strict=False):
        campaigns.graph.fail_for_to[wa_id] = (400, code, None)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    r = await campaigns.client.get(
        ct.tenant.url(f"/campaigns/{created['id']}/failures"), headers=ct.tenant.headers
    )
    assert [(f["error_code"], f["count"]) for f in r.json()["data"]] == [
        (131026, 2),  # the most frequent first; a tie in code order, the same on every call
        (131047, 1),
        (132000, 1),
    ]


async def test_131056_delays_only_that_recipient_by_4_seconds(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 4)
    paired = digits(people[2]["phone"])
    campaigns.graph.fail_recipient(paired, 1, code=131056)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    assert (await campaigns.show(ct, created["id"]))["counts"]["sent"] == 4
    at = {m.wa_id: m.at for m in campaigns.graph.sent}
    assert set(campaigns.graph.sent_counts().values()) == {1}
    others = [at[digits(p["phone"])] for p in people if digits(p["phone"]) != paired]
    # Some others come after it in the queue: had they waited with it, the gap would be ~0.
    assert at[paired] - max(others) >= 3.9, "waited 4^1 s after the others, who did not wait"
    row = next(r for r in await campaigns.recipients(created["id"]) if digits(r.phone) == paired)
    assert row.pair_attempts == 1 and row.attempts == 2 and row.state == "sent"


async def test_130429_slows_the_number_and_everyone_is_still_sent_once(
    campaigns: Campaigns,
) -> None:
    ct = await campaigns.tenant()
    phones = await campaigns.many_contacts(ct, 60)
    # The first sends are refused (a time window could close before a loaded machine has
    # sent anything).
    campaigns.graph.fail_next(5, code=130429, endpoint="messages")
    created = await campaigns.create(ct, rate_per_second=100)
    factors: list[float] = []

    async def slowed() -> None:  # watched during the run: it recovers within seconds after
        while not factors or factors[-1] == 1.0:
            factors.append(await campaigns.pacer.factor(number_key(ct.number)))
            await asyncio.sleep(0.01)

    watch = asyncio.create_task(slowed())
    await campaigns.engine().drain()
    await asyncio.wait_for(watch, 1)  # it stops at the first factor below 1
    assert factors[-1] < 1.0, "the number slowed down"
    shown = await campaigns.show(ct, created["id"])
    assert shown["counts"]["sent"] == 60, shown
    assert campaigns.graph.sent_counts() == {digits(p): 1 for p in phones}
    rows = await campaigns.recipients(created["id"])
    assert any(r.attempts > 1 for r in rows), "some sends were refused and retried"


async def test_131048_pauses_the_campaign_with_the_reason(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    await campaigns.contacts(ct, 3)
    campaigns.graph.fail_next(1, code=131048, status=400, message="(#131048) Spam rate limit hit")
    created = await campaigns.create(ct, rate_per_second=1)
    engine = campaigns.engine()
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "paused"
    assert shown["reason"] == "Paused by Meta's answer 131048: Spam rate limit hit"
    assert shown["counts"]["pending"] >= 1
    r = await campaigns.post(ct, created["id"], "resume")
    assert r.status_code == 200
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed" and shown["counts"]["sent"] == 3
    assert set(campaigns.graph.sent_counts().values()) == {1}


async def test_5xx_is_retried_and_sent_once(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 1)
    campaigns.graph.fail_next(1, code=131000)
    created = await campaigns.create(ct)
    await campaigns.engine().drain()
    assert (await campaigns.show(ct, created["id"]))["counts"]["sent"] == 1
    assert campaigns.graph.sent_counts() == {digits(people[0]["phone"]): 1}
    (row,) = await campaigns.recipients(created["id"])
    assert row.attempts == 2


async def test_retry_failed_resends_only_retryable_failures(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 3)
    transient, permanent = digits(people[0]["phone"]), digits(people[1]["phone"])
    campaigns.graph.fail_recipient(transient, 1, code=131000)
    campaigns.graph.fail_for_to[permanent] = (400, 131026, None)
    created = await campaigns.create(ct)
    engine = campaigns.engine(campaign_max_attempts=1)
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed" and shown["counts"]["failed"] == 2
    r = await campaigns.post(ct, created["id"], "retry-failed")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["retried"] == 1 and r.json()["data"]["state"] == "running"
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed"
    assert shown["counts"]["sent"] == 2 and shown["counts"]["failed"] == 1
    counts = campaigns.graph.sent_counts()
    assert counts[transient] == 1 and permanent not in counts


async def test_a_lost_answer_is_never_resent(campaigns: Campaigns) -> None:
    """The ambiguous case: the request reached Meta, the answer never came back. At most
    once: the recipient is failed as unknown, and "Retry failed" leaves it alone."""
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 1)
    campaigns.graph.latency_ms = 1500
    created = await campaigns.create(ct)
    engine = campaigns.engine(timeout=0.3)
    await engine.drain()
    (row,) = await campaigns.recipients(created["id"])
    assert row.state == "failed" and row.error_message == UNKNOWN_OUTCOME
    assert not row.retryable
    r = await campaigns.post(ct, created["id"], "retry-failed")
    assert r.json()["data"]["retried"] == 0
    campaigns.graph.latency_ms = 0
    await engine.drain()
    assert campaigns.graph.request_count == 1, "one Graph call, never repeated"
    assert campaigns.graph.sent_counts()[digits(people[0]["phone"])] <= 1
