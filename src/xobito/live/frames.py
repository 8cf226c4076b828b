"""Server-Sent Events framing."""

from __future__ import annotations

import re

_LINE_END = re.compile(r"\r\n|\r|\n")  # SSE's line ends (not str.splitlines' others)


def sse_frame(event_id: int | None, name: str, data: str) -> bytes:
    """One SSE event: ``id`` (left out for a late event, so the browser's Last-Event-ID
    never goes back), ``event`` and one ``data`` line per line of ``data``."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    lines = "".join(f"data: {line}\n" for line in _LINE_END.split(data))
    return f"{head}event: {name}\n{lines}\n".encode()


def resync_frame(event_id: int) -> bytes:
    """Too far behind: the page refetches its regions; the stream goes on from ``event_id``."""
    return sse_frame(event_id, "resync", "")


def comment_frame(text: str = "") -> bytes:
    """A heartbeat: ignored by the browser, keeps proxies from closing an idle stream."""
    return f": {text}\n\n".encode()


def retry_frame(milliseconds: int) -> bytes:
    """How long the browser waits before reconnecting."""
    return f"retry: {milliseconds}\n\n".encode()
