"""Real failures on demand: the database refusing a statement, a commit or a rollback.

``refuse(app, "DELETE", "idempotency_keys")`` makes the database itself refuse that
statement (a trigger raising an error, on SQLite and PostgreSQL alike) until the block ends.
``refuse_commit(app, "statuses")`` makes the database refuse the COMMIT of any transaction
that inserted into that table (a deferred foreign key the insert breaks through a trigger).
``failing(app, "rollback")`` makes the engine's next rollbacks fail inside SQLAlchemy (its
``rollback`` connection event), as on a connection that broke.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

from fastapi import FastAPI
from sqlalchemy import event, text

REFUSED = "refused by the test"


class InjectedFailure(Exception):
    """What a failing commit or rollback raises."""


def _name(op: str, table: str) -> str:
    return f"refuse_{op.lower()}_{table}"


@asynccontextmanager
async def refuse(
    app: FastAPI, op: Literal["INSERT", "UPDATE", "DELETE"], table: str
) -> AsyncIterator[None]:
    """The database refuses every ``op`` on ``table`` (rows it touches) inside the block."""
    engine = app.state.engine
    name = _name(op, table)
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as conn:
        if postgres:
            await conn.execute(
                text(
                    "CREATE OR REPLACE FUNCTION refuse_by_test() RETURNS trigger "
                    f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
                )
            )
            await conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_by_test()"
                )
            )
        else:
            await conn.execute(
                text(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
                )
            )
    try:
        yield
    finally:
        async with engine.begin() as conn:
            suffix = f" ON {table}" if postgres else ""
            await conn.execute(text(f"DROP TRIGGER IF EXISTS {name}{suffix}"))


@asynccontextmanager
async def refuse_commit(app: FastAPI, table: str) -> AsyncIterator[None]:
    """COMMIT fails (a deferred foreign key violation) for transactions inserting into
    ``table``; the statements themselves succeed."""
    engine = app.state.engine
    postgres = engine.dialect.name == "postgresql"
    name = f"refuse_commit_{table}"
    statements = [
        "CREATE TABLE refuse_parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE refuse_child (parent_id INTEGER REFERENCES refuse_parent (id) "
        "DEFERRABLE INITIALLY DEFERRED)",
    ]
    if postgres:
        statements += [
            "CREATE OR REPLACE FUNCTION refuse_commit_by_test() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN INSERT INTO refuse_child VALUES (1); RETURN NEW; END $$",
            f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_commit_by_test()",
        ]
    else:
        statements.append(
            f"CREATE TRIGGER {name} AFTER INSERT ON {table} "
            "BEGIN INSERT INTO refuse_child VALUES (1); END"
        )
    async with engine.begin() as conn:
        for sql in statements:
            await conn.execute(text(sql))
    try:
        yield
    finally:
        suffix = f" ON {table}" if postgres else ""
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP TRIGGER IF EXISTS {name}{suffix}"))
            await conn.execute(text("DROP TABLE IF EXISTS refuse_child"))
            await conn.execute(text("DROP TABLE IF EXISTS refuse_parent"))


@contextmanager
def failing(app: FastAPI, what: Literal["rollback"], times: int = 1) -> Iterator[list[int]]:
    """The engine's next ``times`` rollbacks raise ``InjectedFailure`` (inside SQLAlchemy,
    before the driver is asked); yields a one-item list counting how many did."""
    sync_engine = app.state.engine.sync_engine
    done = [0]

    def fail(conn: Any) -> None:
        if done[0] < times:
            done[0] += 1
            raise InjectedFailure(f"{what} failed (injected)")

    event.listen(sync_engine, what, fail)
    try:
        yield done
    finally:
        event.remove(sync_engine, what, fail)
