"""Activity: the workspace's activity log, filtered by actor, action and days, paginated, newest
first; owner and admin only; never another workspace's entries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from tests.web.conftest import Team, WebClient, main_text, soup, texts
from xobito.kit.time import utcnow
from xobito.models import ActivityEntry

SignedIn = Any
PAGE = "/app/acme/activity"


async def entries(app: FastAPI, rows: list[dict[str, Any]]) -> None:
    async with app.state.sessionmaker() as s:
        s.add_all(ActivityEntry(**row) for row in rows)
        await s.commit()


def entry(workspace_id: int, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "actor_type": "user",
        "actor_id": 1,
        "actor_name": "Olivia Owner <owner@acme.example.com>",
        "action": "contact.created",
        "summary": f"Created contact C{n:02d}",
        "ip": "203.0.113.9",
        "created_at": utcnow() - timedelta(minutes=100 - n),
        **fields,
    }


def summaries(response: Any) -> list[str]:
    return texts(soup(response), "tbody td:nth-of-type(3)")


async def test_changes_made_in_the_dashboard_are_listed(signed_in: SignedIn, team: Team) -> None:
    owner: WebClient = await signed_in("owner")
    await owner.post(
        "/app/acme/settings/tokens", {"name": "Audit me", "abilities[]": ["contacts.read"]}
    )
    page = soup(await owner.get(PAGE))
    rows = texts(page, "tbody tr")
    assert any(
        "Created API token Audit me" in row and "Olivia Owner" in row and "Dashboard" in row
        for row in rows
    )


async def test_filters_and_pages_come_from_the_query(
    signed_in: SignedIn, team: Team, app: FastAPI
) -> None:
    ws = team.a.workspace.id
    old = utcnow() - timedelta(days=10)
    await entries(
        app,
        [entry(ws, 61, action="webhook.created", summary="Old one", created_at=old)]
        + [entry(ws, n) for n in range(60)]
        + [
            entry(ws, 60, actor_type="token", actor_name="token shop", action="contact.deleted"),
            entry(team.b.workspace.id, 62, summary="Globex secret", actor_name="Gina"),
        ],
    )
    admin: WebClient = await signed_in("admin")  # signing in is an entry too, the newest
    first = await admin.get(PAGE)
    assert len(summaries(first)) == 50
    assert summaries(first)[:2] == ["admin@acme.example.com signed in", "Created contact C60"]
    assert "1\u201350 of 63" in main_text(soup(first))
    assert "Globex secret" not in (await admin.get(f"{PAGE}?page=2")).text
    assert summaries(await admin.get(f"{PAGE}?page=2"))[-1] == "Old one"

    r = await admin.get(f"{PAGE}?actor=token+shop")
    assert summaries(r) == ["Created contact C60"]
    assert "API token" in main_text(soup(r))
    r = await admin.get(f"{PAGE}?action=webhook.created")
    assert summaries(r) == ["Old one"]
    day = old.date().isoformat()
    r = await admin.get(f"{PAGE}?since={day}&until={day}")
    assert summaries(r) == ["Old one"]
    r = await admin.get(f"{PAGE}?since={(old + timedelta(days=1)).date().isoformat()}")
    assert "Old one" not in summaries(r) and len(summaries(r)) == 50  # of 62
    options = texts(soup(first), "#f-actor option")
    assert "Gina" not in options and "token shop" in options
    # htmx gets the results only; unreadable values are ignored, never an error page.
    fragment = await admin.get(
        f"{PAGE}?action=webhook.created", htmx=True, headers={"HX-Target": "activity-results"}
    )
    assert "<html" not in fragment.text and "Old one" in fragment.text
    r = await admin.get(f"{PAGE}?since=yesterday&until=2026-13-45&page=-1&per_page=7")
    assert r.status_code == 200 and len(summaries(r)) == 50
    r = await admin.get(f"{PAGE}?action=nothing.like.this")
    assert "Nothing matches" in main_text(soup(r))


async def test_agents_get_the_403_page(signed_in: SignedIn, team: Team) -> None:
    agent: WebClient = await signed_in("agent")
    r = await agent.get(PAGE)
    assert r.status_code == 403
    assert "This page needs the admin role or higher." in r.text
    owner: WebClient = await signed_in("owner")
    assert (await owner.get("/app/globex/activity")).status_code == 404
