"""structlog configuration: console lines in development, JSON lines in production.

Logs carry no personal data: engines hide statement parameters (``kit.db.make_engine``), and
exceptions are rendered without what PostgreSQL quotes back from the row (``DETAIL: Key
(phone)=(+1…) already exists``, ``Failing row contains (…)``): ``render_exception`` for
tracebacks, ``error_text`` for an error kept in a log field or a row.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

import structlog

from xobito.config import Settings

HIDDEN = "(hidden: values of the row)"
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _quoted_values(exc: BaseException | None) -> list[str]:
    """The ``detail`` (asyncpg: the row's values) of every exception in the chain."""
    found: list[str] = []
    todo, seen = [exc], set()
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        detail = getattr(current, "detail", None)
        if isinstance(detail, str) and detail:
            found.append(detail)
        todo += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return found


def _redact(exc: BaseException | None, text: str) -> str:
    for detail in _quoted_values(exc):
        text = text.replace(detail, HIDDEN)
    return text


def error_text(exc: BaseException) -> str:
    """``repr(exc)`` without the values the database quoted back."""
    return _redact(exc, repr(exc))


def render_exception(exc_info: ExcInfo) -> str:
    """The traceback, as ``format_exc_info`` renders it, without the quoted values."""
    return _redact(exc_info[1], "".join(traceback.format_exception(*exc_info)))


def configure_logging(settings: Settings) -> None:
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.ExceptionRenderer(render_exception),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Tests capture log lines (structlog.testing.capture_logs), which cached loggers miss.
        cache_logger_on_first_use=settings.env != "testing",
    )
