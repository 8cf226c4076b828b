"""A campaign from creation to completion against the fake Graph API."""

from __future__ import annotations

from tests.campaign.conftest import Campaigns


async def test_campaign_sends_each_contact_once_and_completes(campaigns: Campaigns) -> None:
    ct = await campaigns.tenant()
    people = await campaigns.contacts(ct, 5)
    created = await campaigns.create(ct)
    assert created["state"] == "scheduled"
    engine = campaigns.engine()
    await engine.drain()
    shown = await campaigns.show(ct, created["id"])
    assert shown["state"] == "completed", shown
    assert shown["counts"]["sent"] == 5
    assert shown["counts"]["pending"] == 0
    counts = campaigns.graph.sent_counts()
    assert sorted(counts) == sorted(p["phone"].lstrip("+") for p in people)
    assert set(counts.values()) == {1}
    bodies = [m.body for m in campaigns.graph.sent]
    texts = {b["template"]["components"][0]["parameters"][0]["text"] for b in bodies}
    assert texts == {p["firstname"] for p in people}
    messages = await campaigns.messages(ct.tenant.workspace.id)
    assert len(messages) == 5
    assert {m.text for m in messages} == {f"Hi {p['firstname']}, use code SPRING." for p in people}
