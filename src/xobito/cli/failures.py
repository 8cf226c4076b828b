"""One readable line for any failure a command did not expect (the database is unreachable,
a setting is invalid, a file cannot be written), instead of a traceback."""

from __future__ import annotations

import pydantic
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def _database() -> str:
    """The configured database URL without its password, or "" when settings are broken."""
    from xobito.config import get_settings

    try:
        url = get_settings().database_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return ""


def describe(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError):
        problems = [
            f"XOBITO_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        ]
        return "invalid setting " + "; ".join(problems)
    if isinstance(exc, DBAPIError):
        reason = _first_line(str(exc.orig)) or type(exc.orig).__name__
        where = _database()
        return f"database error: {reason}" + (f" ({where})" if where else "")
    if isinstance(exc, ArgumentError):
        return f"invalid XOBITO_DATABASE_URL: {_first_line(str(exc))}"
    if isinstance(exc, SQLAlchemyError):
        return f"database error: {_first_line(str(exc))}"
    if isinstance(exc, OSError):
        where = _database() if isinstance(exc, ConnectionError) else ""
        text = exc.strerror or _first_line(str(exc)) or type(exc).__name__
        name = f" {exc.filename}" if exc.filename else ""
        return f"{text}{name}" + (f" (database: {where})" if where else "")
    text = _first_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
