"""Connection pools against PostgreSQL's ``max_connections`` (``kit.db_capacity``)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.backends import Backend
from xobito.config import Settings
from xobito.kit.db_capacity import (
    HEADROOM,
    WORKER_CONNECTIONS,
    Capacity,
    read_capacity,
    serve_warning,
    worker_warning,
)

# A stock PostgreSQL: max_connections 100, superuser_reserved_connections 3.
STOCK = Capacity(max_connections=100, reserved=3, in_use=1)


def test_the_default_pool_fits_a_stock_postgresql_with_the_readme_layout() -> None:
    """``xobito serve --workers 4`` plus one ``xobito worker``, with room to spare for psql,
    migrations and monitoring."""
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    per_process = s.db_pool_size + s.db_max_overflow
    assert 4 * per_process + WORKER_CONNECTIONS + HEADROOM <= STOCK.available
    assert serve_warning(STOCK, processes=4, per_process=per_process, workers=1) is None


def test_the_send_path_keeps_at_most_half_of_the_default_pool() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert 1 <= min(s.db_hot_connections, s.db_pool_size // 2) <= s.db_pool_size // 2


def test_a_pool_too_large_is_explained_with_the_size_that_fits() -> None:
    warning = serve_warning(STOCK, processes=4, per_process=50, workers=1)
    assert warning == (
        "PostgreSQL connections: 4 API processes x 50 + 1 worker x 6 = 206, plus 10 left for "
        "psql, migrations and monitoring, exceed the 97 the server allows (max_connections "
        "100 - 3 reserved); under load requests would fail with 'too many clients'. Set "
        "XOBITO_DB_POOL_SIZE (+ XOBITO_DB_MAX_OVERFLOW) to at most 20, or raise "
        "max_connections."
    )
    # At that size it fits exactly; one more does not.
    assert serve_warning(STOCK, processes=4, per_process=20, workers=1) is None
    assert serve_warning(STOCK, processes=4, per_process=21, workers=1) is not None


def test_too_many_processes_for_any_pool_say_so() -> None:
    warning = serve_warning(STOCK, processes=64, per_process=2, workers=0)
    assert warning is not None and warning.endswith(
        "Run fewer processes, or raise max_connections."
    )


def test_a_worker_is_warned_when_its_connections_are_taken() -> None:
    assert worker_warning(Capacity(100, 3, in_use=92)) is None  # 6 free (its check closed)
    warning = worker_warning(Capacity(100, 3, in_use=95))
    assert warning == (
        "PostgreSQL connections: this worker needs up to 6, but only 3 of 97 are free "
        "(max_connections 100 - 3 reserved, 94 in use); lower XOBITO_DB_POOL_SIZE of the API "
        "processes or raise max_connections."
    )


async def test_the_limits_are_read_from_the_server(backend: Backend) -> None:
    capacity = await read_capacity(backend.database_url)
    if backend.name != "postgres":
        assert capacity is None
        return
    assert capacity is not None
    dsn = backend.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        assert capacity.max_connections == int(await conn.fetchval("SHOW max_connections"))
        reserved = int(await conn.fetchval("SHOW superuser_reserved_connections"))
        if conn.get_server_version().major >= 16:
            reserved += int(await conn.fetchval("SHOW reserved_connections"))
        assert capacity.reserved == reserved
    finally:
        await conn.close()
    assert capacity.in_use >= 1


@pytest.mark.parametrize("url", ["postgresql+asyncpg://nobody@127.0.0.1:1/none"])
async def test_an_unreachable_server_is_not_this_checks_business(url: str) -> None:
    from xobito.kit.db_capacity import serve_check, worker_check

    assert await serve_check(url, processes=4, per_process=50, workers=1) is None
    assert await worker_check(url) is None
