"""The dashboard's route table, as the app serves it (so a test that walks it covers routes
added later without being edited)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount


def web_app(app: FastAPI) -> FastAPI:
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/app")
    web = mount.app
    assert isinstance(web, FastAPI)
    return web


def _walk(routes: Sequence[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included routers
            yield from _walk(route.original_router.routes)


def web_routes(app: FastAPI) -> list[APIRoute]:
    """Every dashboard route (paths relative to ``/app``)."""
    return list(_walk(web_app(app).routes))
