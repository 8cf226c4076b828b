"""contact positions (PostgreSQL): how many contacts each block of 1,024 ids holds, so a
deep page of the list starts next to its rows instead of walking to them

``GET /contacts?page=5000`` found its 15 ids by walking 75,000 entries of the
``(workspace_id, id)`` index (7.5 ms at a million contacts; page 50,000 ten times that).
The contact tallies (migration 0014) now also count the workspace's contacts per block of
ids: facet ``"p"``, value ``id / 1024``. Summed in id order they say which block holds the
page's first row and how many rows come before it, so the walk starts at that block and
skips fewer than 1,024 entries, at any depth. The counts are written by the tally triggers
in the transaction of each insert and delete (ids never change), so they are as exact as
``total`` in every snapshot.

The trigger functions of 0014 are replaced by the same fold with the extra key; a share
lock on ``contacts`` keeps writers (which would run the old functions) out from before the
replacement until the migration commits, so no contact falls between the backfill's count
and the new functions.

SQLite (one writer, small workspaces) keeps walking the index; its triggers are unchanged.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 18:30:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# contact.listing's POSITION_BLOCK reads the same size.
BLOCK = 1024
CHANGED = {
    "contact_tallies_contacts_insert": ("added", 1),
    "contact_tallies_contacts_delete": ("removed", -1),
}


def _tallies() -> ModuleType:
    """Migration 0014, whose fold this one extends (one fold per statement, not two)."""
    path = Path(__file__).with_name("0014_contact_tallies.py")
    spec = importlib.util.spec_from_file_location("xobito_migration_0014", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positions(table: str, sign: int) -> str:
    return (
        f"SELECT workspace_id, 'p' AS facet, (id / {BLOCK})::integer AS value, {sign} AS n"
        f" FROM {table}"
    )


def _function(name: str, with_positions: bool) -> str:
    tallies = _tallies()
    table, sign = CHANGED[name]
    rows = tallies._contact_rows(table, sign)
    if with_positions:
        rows += " UNION ALL " + _positions(table, sign)
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        f"BEGIN\n{tallies._pg_apply(rows)};\nRETURN NULL;\nEND\n$body$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE")
    for name in CHANGED:
        op.execute(_function(name, with_positions=True))
    op.execute(
        "INSERT INTO contact_tallies (workspace_id, facet, value, n)"
        f" SELECT workspace_id, 'p', (id / {BLOCK})::integer, count(*) FROM contacts"
        f" GROUP BY workspace_id, id / {BLOCK}"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE")
    for name in CHANGED:
        op.execute(_function(name, with_positions=False))
    op.execute("DELETE FROM contact_tallies WHERE facet = 'p'")
