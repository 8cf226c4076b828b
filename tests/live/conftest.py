"""Live-event helpers: a JSON renderer (the dashboard's is HTML) and a feed on the app's DB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.live.bus import LiveBus
from xobito.live.feed import Feed
from xobito.models import LiveEvent


async def json_renderer(
    session: AsyncSession, workspace_id: int, rows: Sequence[LiveEvent]
) -> list[tuple[str, str]]:
    return [
        (r.kind, orjson.dumps({"ws": workspace_id, "chat": r.chat_id, "data": r.data}).decode())
        for r in rows
    ]


def frames(chunk: bytes) -> list[tuple[int | None, str, str]]:
    """(id, event, data) of each SSE event in a chunk."""
    out: list[tuple[int | None, str, str]] = []
    for block in chunk.decode().split("\n\n"):
        if not block.strip() or block.startswith(":"):
            continue
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            key, _, value = line.partition(": ")
            fields.setdefault(key, []).append(value)
        event_id = int(fields["id"][0]) if "id" in fields else None
        out.append((event_id, fields["event"][0], "\n".join(fields.get("data", []))))
    return out


@pytest.fixture
async def feed(app: FastAPI) -> AsyncIterator[Feed]:
    # Its own bus: the tests wake it by hand or through the commit hook's global bus.
    f = Feed(app.state.sessionmaker, json_renderer, gap_wait=0.3, poll_seconds=0.05, linger=0)
    yield f
    await f.close()


@pytest.fixture
def bus() -> LiveBus:
    return LiveBus()
