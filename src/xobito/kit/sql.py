"""Statements whose size does not depend on how many values they carry.

A list of values is bound as one parameter (a PostgreSQL array, a JSON array on SQLite) and
read back as rows, so 1 or 50 values make the same statement: one round trip, one cached
prepared statement, and no parameter-count limit (asyncpg's is 32,767). Bulk writes on
PostgreSQL: ids drawn from a sequence in one query, rows written with one binary COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Integer, String, TableValuedAlias, bindparam, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xobito.kit.db import driver_in_transaction


def dialect_of(session: AsyncSession) -> str:
    bind = session.bind
    return bind.dialect.name if bind is not None else "sqlite"


def value_rows(dialect: str, values: Sequence[str] | Sequence[int]) -> TableValuedAlias:
    """``values`` as rows of one column, ``value``: ``select(rows.c.value)``."""
    items = list(values)
    if dialect == "postgresql":
        kind: Any = Integer() if items and isinstance(items[0], int) else String()
        array = bindparam(None, items, type_=ARRAY(kind))
        return func.unnest(array).table_valued("value").render_derived()
    return func.json_each(bindparam(None, orjson.dumps(items).decode())).table_valued("value")


def insert_ignoring_duplicates(dialect: str, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for this dialect (``.on_conflict_do_nothing()``
    is then available on the statement)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def next_ids(session: AsyncSession, table: str, n: int) -> list[int]:
    """PostgreSQL: ``n`` new ids from ``table``'s ``id`` sequence, ascending (one query)."""
    # One array in one row on the driver connection: a result row per id cost more than
    # the sequence itself (an import takes 5,000 at a time).
    driver = await driver_in_transaction(session)
    found = await driver.fetchval(
        "SELECT array_agg(nextval(pg_get_serial_sequence($1, 'id'))) FROM generate_series(1, $2)",
        table,
        n,
    )
    return sorted(found or [])


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], records: Sequence[Sequence[Any]]
) -> None:
    """PostgreSQL: ``records`` (tuples in ``columns`` order) into ``table`` with one binary
    COPY on the session's connection, in its transaction; triggers and constraints apply as
    for INSERT. A constraint violation raises ``IntegrityError``, as an INSERT would."""
    if not records:
        return
    driver = await driver_in_transaction(session)
    try:
        await driver.copy_records_to_table(
            table, records=records, columns=list(columns)
        )
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(f"COPY {table}", None, exc) from exc
