"""Bench-only app factory: the real Xobito app plus ``POST /bench/passthrough``.

``/bench/passthrough`` takes the same JSON as ``POST /api/v1/{subdomain}/messages/send``
(``phone_number``, ``message_body``), builds the same Meta text payload, POSTs it to the same
Graph API (the fake, ``XOBITO_GRAPH_BASE_URL``) with the app's own cloud provider's aiohttp
session, and answers Meta's JSON as it came. No auth, no database, no rate limit: it measures
what the stack plus one Graph round trip costs, the ceiling a send could reach.

Run with ``uvicorn bench.passthrough_app:create_passthrough_app --factory``. Never used in
production.

``XOBITO_BENCH_VARIANTS`` (comma-separated names of ``VARIANTS``) patches the app's classes
before it is built, to measure an optimisation proposal without changing ``src/``; ``python -m
bench.passthrough_app worker`` runs ``xobito worker`` with the same patches applied.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from xobito.app import create_app
from xobito.whatsapp import payloads
from xobito.whatsapp.cloud import CloudProvider

PHONE_NUMBER_ID_ENV = "XOBITO_BENCH_PHONE_NUMBER_ID"
ACCESS_TOKEN_ENV = "XOBITO_BENCH_ACCESS_TOKEN"
VARIANTS_ENV = "XOBITO_BENCH_VARIANTS"
TTL = 0.5  # seconds, as the auth cache (settings.auth_cache_seconds)


def _link_cache() -> None:
    """ConnectionService.link served from a per-process TTL cache (one SELECT less a send)."""
    from xobito.connection.service import ConnectionService
    from xobito.kit.ttl_cache import TTLCache

    original = ConnectionService.link
    cache: TTLCache[tuple[int, str | None], Any] = TTLCache(TTL)

    async def link(self: Any, workspace_id: int, from_phone_number_id: str | None = None) -> Any:
        key = (workspace_id, from_phone_number_id)
        found = cache.get(key)
        if found is None:
            found = await original(self, workspace_id, from_phone_number_id)
            if found is not None:
                cache.put(key, found)
        return found

    ConnectionService.link = link  # type: ignore[method-assign]


def _chat_identity() -> None:
    """ChatRepository.get from the session's identity map: the chat ``ensure`` loaded before
    the checkpoint is still there (expire_on_commit=False), so no second SELECT."""
    from xobito.message.repository import ChatRepository
    from xobito.models import Chat

    async def get(self: Any, record_id: int) -> Any:
        chat = await self.session.get(Chat, record_id)
        return chat if chat is not None and chat.workspace_id == self.workspace_id else None

    ChatRepository.get = get  # type: ignore[method-assign]


def _endpoint_cache() -> None:
    """EndpointRepository.subscribed (outbox: who listens to a topic) from a TTL cache."""
    from xobito.kit.ttl_cache import TTLCache
    from xobito.webhook.repository import EndpointRepository

    original = EndpointRepository.subscribed
    cache: TTLCache[tuple[int, str], list[int]] = TTLCache(TTL)

    async def subscribed(self: Any, topic: str) -> list[int]:
        key = (self.workspace_id, topic)
        found = cache.get(key)
        if found is None:
            found = await original(self, topic)
            cache.put(key, found)
        return list(found)

    EndpointRepository.subscribed = subscribed  # type: ignore[method-assign]


def _owner_cache() -> None:
    """ConnectionRepository.owner_of (phone_number_id -> workspace) from a TTL cache."""
    from xobito.connection.repository import ConnectionRepository
    from xobito.kit.ttl_cache import TTLCache

    original = ConnectionRepository.owner_of
    cache: TTLCache[str, int] = TTLCache(TTL)

    async def owner_of(self: Any, phone_number_id: str) -> int | None:
        found = cache.get(phone_number_id)
        if found is None:
            found = await original(self, phone_number_id)
            if found is not None:
                cache.put(phone_number_id, found)
        return found

    ConnectionRepository.owner_of = owner_of  # type: ignore[method-assign]


def _gc() -> None:
    """Python's cyclic GC tuned for a server: everything imported so far is frozen out of the
    collections (``gc.freeze``), and generation 0 is collected every 50,000 allocations
    instead of 700, so full collections over a large heap of ORM objects run far less often."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _uvloop() -> None:
    """The worker on uvloop, as the server already is (``xobito worker`` now does this itself:
    the variant is kept so that older numbers can be reproduced)."""
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


VARIANTS: dict[str, Callable[[], None]] = {
    "link-cache": _link_cache,
    "chat-identity": _chat_identity,
    "endpoint-cache": _endpoint_cache,
    "owner-cache": _owner_cache,
    "uvloop": _uvloop,
    "gc": _gc,
}


def apply_variants(names: str | None = None) -> list[str]:
    names = os.environ.get(VARIANTS_ENV, "") if names is None else names
    names = names.replace("+", ",")
    chosen = list(VARIANTS) if names.strip() == "all" else [n for n in names.split(",") if n]
    chosen = [n for n in chosen if n != "none"]
    for name in chosen:
        VARIANTS[name]()
    return chosen


def create_passthrough_app() -> FastAPI:
    apply_variants()
    app = create_app()
    provider = app.state.providers["cloud"]
    assert isinstance(provider, CloudProvider)
    number = os.environ.get(PHONE_NUMBER_ID_ENV, "106540352242922")
    url = f"{provider.base_url}/{number}/messages"
    headers = {
        "Authorization": f"Bearer {os.environ.get(ACCESS_TOKEN_ENV, 'bench-access-token')}",
        "Content-Type": "application/json",
    }

    @app.post("/bench/passthrough", include_in_schema=False)
    async def passthrough(request: Request) -> Response:
        data = orjson.loads(await request.body())
        payload = payloads.text_message(data["phone_number"], data["message_body"])
        session = provider._get_session()  # the pooled session sends use (one per process)
        async with session.post(url, data=orjson.dumps(payload), headers=headers) as resp:
            body = await resp.read()
            return Response(body, status_code=resp.status, media_type="application/json")

    return app


if __name__ == "__main__":
    if sys.argv[1:] != ["worker"]:
        sys.exit("usage: python -m bench.passthrough_app worker")
    apply_variants()
    from xobito.cli.messaging import worker

    worker()
