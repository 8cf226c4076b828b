"""Do the processes' connection pools fit in PostgreSQL's ``max_connections``?

Every process keeps its own pool (``XOBITO_DB_POOL_SIZE`` + ``XOBITO_DB_MAX_OVERFLOW``; the
send path's own connections come out of it) and ``xobito worker`` a small fixed one. When
together they ask for more than the server allows, bursts fail with "too many clients" (500s)
and a worker cannot start. ``xobito serve`` knows its process count and checks at start-up;
``xobito worker`` checks what is still free.

The rule: processes x (pool + overflow) + workers x WORKER_CONNECTIONS + HEADROOM
<= max_connections - superuser_reserved_connections - reserved_connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

# ``xobito worker``'s pool: 4 kept + 2 overflow (one claim loop and the webhook dispatcher).
WORKER_POOL_SIZE = 4
WORKER_MAX_OVERFLOW = 2
WORKER_CONNECTIONS = WORKER_POOL_SIZE + WORKER_MAX_OVERFLOW
# Left free for psql, migrations (``xobito db upgrade``), backups and monitoring.
HEADROOM = 10

SETTINGS_SQL = """
SELECT name, setting::int FROM pg_settings
WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')
"""
IN_USE_SQL = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"


@dataclass(frozen=True, slots=True)
class Capacity:
    max_connections: int
    reserved: int  # superuser_reserved_connections (+ reserved_connections, PostgreSQL 16+)
    in_use: int  # client connections open right now (this check's own included)

    @property
    def available(self) -> int:
        """Connections ordinary roles may open."""
        return self.max_connections - self.reserved


async def read_capacity(database_url: str) -> Capacity | None:
    """The server's limits (``None`` on other databases than PostgreSQL)."""
    if not database_url.startswith("postgresql"):
        return None
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text(SETTINGS_SQL))).all()
            values: dict[str, int] = {str(name): int(value) for name, value in rows}
            in_use = int((await conn.execute(text(IN_USE_SQL))).scalar_one())
    finally:
        await engine.dispose()
    reserved = values.get("superuser_reserved_connections", 0) + values.get(
        "reserved_connections", 0
    )
    return Capacity(values["max_connections"], reserved, in_use)


def serve_warning(
    capacity: Capacity, *, processes: int, per_process: int, workers: int
) -> str | None:
    """Why ``processes`` API processes of ``per_process`` connections each (plus ``workers``
    ``xobito worker`` processes) do not fit, with the largest pool that would; else ``None``."""
    needed = processes * per_process + workers * WORKER_CONNECTIONS
    if needed + HEADROOM <= capacity.available:
        return None
    fitting = (capacity.available - HEADROOM - workers * WORKER_CONNECTIONS) // processes
    advice = (
        f"set XOBITO_DB_POOL_SIZE (+ XOBITO_DB_MAX_OVERFLOW) to at most {fitting}"
        if fitting >= 2
        else "run fewer processes"
    )
    worker_part = f" + {workers} worker x {WORKER_CONNECTIONS}" if workers else ""
    return (
        f"PostgreSQL connections: {processes} API processes x {per_process}{worker_part} = "
        f"{needed}, plus {HEADROOM} left for psql, migrations and monitoring, exceed the "
        f"{capacity.available} the server allows (max_connections {capacity.max_connections} "
        f"- {capacity.reserved} reserved); under load requests would fail with 'too many "
        f"clients'. {advice[0].upper()}{advice[1:]}, or raise max_connections."
    )


def worker_warning(capacity: Capacity) -> str | None:
    """Whether a new ``xobito worker`` finds its connections still free (others may be
    holding them already: API processes open theirs on demand)."""
    free = capacity.available - capacity.in_use + 1  # this check's own connection is closed
    if free >= WORKER_CONNECTIONS:
        return None
    return (
        f"PostgreSQL connections: this worker needs up to {WORKER_CONNECTIONS}, but only {free} "
        f"of {capacity.available} are free (max_connections {capacity.max_connections} - "
        f"{capacity.reserved} reserved, {capacity.in_use - 1} in use); lower "
        "XOBITO_DB_POOL_SIZE of the API processes or raise max_connections."
    )


async def serve_check(
    database_url: str, *, processes: int, per_process: int, workers: int
) -> str | None:
    """``serve_warning`` against the configured server; a server that cannot be reached is
    left to fail on its own, later, with its own error."""
    try:
        capacity = await read_capacity(database_url)
    except Exception:  # unreachable or refusing: not this check's business
        return None
    if capacity is None:
        return None
    return serve_warning(capacity, processes=processes, per_process=per_process, workers=workers)


async def worker_check(database_url: str) -> str | None:
    try:
        capacity = await read_capacity(database_url)
    except Exception:
        return None
    return None if capacity is None else worker_warning(capacity)
