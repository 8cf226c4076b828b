"""Laravel's length-aware paginator, as Xobito returns it (docs/api/README.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request

from xobito.config import Settings
from xobito.kit.cursor import encode

ON_EACH_SIDE = 3


def _window(current: int, last: int) -> list[int | None]:
    """Laravel's UrlWindow: page numbers with ``None`` where it prints ``...``."""
    if last < ON_EACH_SIDE * 2 + 8:
        return list(range(1, last + 1))
    window = ON_EACH_SIDE + 4
    if current <= window:
        return [*range(1, window + ON_EACH_SIDE + 1), None, last - 1, last]
    if current > last - window:
        return [1, 2, None, *range(last - (window + ON_EACH_SIDE - 1), last + 1)]
    return [
        1,
        2,
        None,
        *range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1),
        None,
        last - 1,
        last,
    ]


def paginate(
    items: Sequence[Any] | orjson.Fragment,
    *,
    total: int,
    page: int,
    per_page: int,
    path: str,
    keep: Mapping[str, Any],
    count: int | None = None,
) -> dict[str, Any]:
    """``keep`` holds the query parameters every page URL repeats (per_page when given, filters)."""
    last_page = max(1, math.ceil(total / per_page))
    kept = urlencode({k: v for k, v in keep.items() if v is not None})
    # Encoded once: a page of the list links up to 14 URLs that differ only in ``page``.
    prefix = f"{path}?{kept}&page=" if kept else f"{path}?page="

    def url(n: int) -> str:
        return f"{prefix}{n}"

    if count is None:  # ``items`` may be pre-encoded JSON, whose length is given
        count = len(items)
    first = (page - 1) * per_page + 1
    prev_url = url(page - 1) if page > 1 else None
    next_url = url(page + 1) if page < last_page else None
    links: list[dict[str, Any]] = [{"url": prev_url, "label": "&laquo; Previous", "active": False}]
    for n in _window(page, last_page):
        if n is None:
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.append({"url": url(n), "label": str(n), "active": n == page})
    links.append({"url": next_url, "label": "Next &raquo;", "active": False})
    return {
        "current_page": page,
        "data": items,
        "first_page_url": url(1),
        "from": first if count else None,
        "last_page": last_page,
        "last_page_url": url(last_page),
        "links": links,
        "next_page_url": next_url,
        "path": path,
        "per_page": per_page,
        "prev_page_url": prev_url,
        "to": first + count - 1 if count else None,
        "total": total,
    }


PUBLIC_URL_UNSET = (
    "XOBITO_PUBLIC_URL is unset: pagination URLs (path, first/last/next/prev_page_url, "
    "links) are built from each request's Host header, which any client can set. Set it to "
    "the URL your clients call, e.g. https://api.example.com"
)


def public_url_warning(settings: Settings) -> str | None:
    """What to warn about at start-up: in production, pagination URLs must not depend on the
    request's ``Host`` header."""
    return PUBLIC_URL_UNSET if settings.env == "production" and not settings.public_url else None


def page_path(request: Request) -> str:
    """The absolute URL of the list, without its query: ``XOBITO_PUBLIC_URL`` and the path,
    or, unset, the request's own URL (its ``Host`` header)."""
    base = request.app.state.settings.public_url
    if base:
        return str(base).rstrip("/") + request.url.path
    return str(request.url.replace(query="", fragment=""))


def keyset_page(
    items: Sequence[Any], last_id: int | None, *, path: str, keep: Mapping[str, Any]
) -> dict[str, Any]:
    """An opt-in keyset page (``?cursor=``): ``last_id`` is the id the next page starts
    after (``None``: no next page); ``keep`` as for ``paginate``."""
    next_cursor = encode(last_id) if last_id is not None else None
    next_url = None
    if next_cursor is not None:
        kept = {k: v for k, v in keep.items() if v is not None}
        next_url = f"{path}?{urlencode({**kept, 'cursor': next_cursor})}"
    per_page = keep.get("per_page") or 15
    return {
        "data": items,
        "path": path,
        "per_page": per_page,
        "next_cursor": next_cursor,
        "next_page_url": next_url,
    }
