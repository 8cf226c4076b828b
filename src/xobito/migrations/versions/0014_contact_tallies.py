"""contact tallies: exact contact counts per workspace, status, source and group, kept by
triggers

The contact list's ``total`` counted the workspace's rows on every request (a million rows:
tens of milliseconds). ``contact_tallies`` holds the counts instead, written by triggers on
``contacts`` and ``contact_groups`` in the transaction of each change, whichever code path
or cascade made it (see ``models/contact_tally.py`` for the PostgreSQL scheme: append a row
per statement and key, fold the unlocked committed rows into it; no waiting, no deadlocks).

The triggers are created before the counts are taken, in the same transaction: on
PostgreSQL ``CREATE TRIGGER`` locks out writers of both tables until the migration commits,
so no change can fall between the count and the trigger. Counts of a workspace being deleted
are not written (its tallies go with it by cascade).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (facet, column) of contacts counted per value besides the total.
FACETS = (("s", "status_id"), ("o", "source_id"))
PG_FUNCTIONS = {
    "contact_tallies_contacts_insert": ("contacts", "INSERT", "NEW TABLE AS added"),
    "contact_tallies_contacts_delete": ("contacts", "DELETE", "OLD TABLE AS removed"),
    "contact_tallies_contacts_update": (
        "contacts",
        "UPDATE",
        "OLD TABLE AS removed NEW TABLE AS added",
    ),
    "contact_tallies_groups_insert": ("contact_groups", "INSERT", "NEW TABLE AS added"),
    "contact_tallies_groups_delete": ("contact_groups", "DELETE", "OLD TABLE AS removed"),
}


def _contact_rows(table: str, sign: int, total: bool = True) -> str:
    parts = [f"SELECT workspace_id, '' AS facet, 0 AS value, {sign} AS n FROM {table}"]
    if not total:
        parts = []
    parts += [
        f"SELECT workspace_id, '{facet}' AS facet, {column} AS value, {sign} AS n FROM {table}"
        f" WHERE {column} IS NOT NULL"
        for facet, column in FACETS
    ]
    return " UNION ALL ".join(parts)


def _member_rows(table: str, sign: int) -> str:
    # A membership's workspace is its group's, or (the group being deleted) its contact's;
    # neither is left only when the workspace itself is being deleted.
    return (
        "SELECT coalesce((SELECT g.workspace_id FROM groups g WHERE g.id = d.group_id),"
        " (SELECT c.workspace_id FROM contacts c WHERE c.id = d.contact_id)) AS workspace_id,"
        " 'g' AS facet, d.group_id AS value, d.n"
        f" FROM (SELECT group_id, min(contact_id) AS contact_id, {sign} * count(*) AS n"
        f" FROM {table} GROUP BY group_id) d"
    )


def _pg_apply(rows: str) -> str:
    return f"""
WITH raw AS ({rows}),
delta AS (
    SELECT r.workspace_id, r.facet, r.value, sum(r.n) AS n FROM raw r
    WHERE EXISTS (SELECT 1 FROM workspaces w WHERE w.id = r.workspace_id)
    GROUP BY 1, 2, 3 HAVING sum(r.n) <> 0
),
gone AS (
    DELETE FROM contact_tallies t WHERE t.id IN (
        SELECT t2.id FROM contact_tallies t2 JOIN delta d
        ON t2.workspace_id = d.workspace_id AND t2.facet = d.facet AND t2.value = d.value
        FOR UPDATE OF t2 SKIP LOCKED
    )
    RETURNING t.workspace_id, t.facet, t.value, t.n
)
INSERT INTO contact_tallies (workspace_id, facet, value, n)
SELECT u.workspace_id, u.facet, u.value, sum(u.n)
FROM (SELECT * FROM delta UNION ALL SELECT * FROM gone) u
GROUP BY 1, 2, 3 HAVING sum(u.n) <> 0"""


def _pg_body(name: str) -> str:
    if name == "contact_tallies_contacts_insert":
        rows = _contact_rows("added", 1)
    elif name == "contact_tallies_contacts_delete":
        rows = _contact_rows("removed", -1)
    elif name == "contact_tallies_contacts_update":
        rows = f"{_contact_rows('added', 1, total=False)} UNION ALL " + _contact_rows(
            "removed", -1, total=False
        )
    elif name == "contact_tallies_groups_insert":
        rows = _member_rows("added", 1)
    else:
        rows = _member_rows("removed", -1)
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        f"BEGIN\n{_pg_apply(rows)};\nRETURN NULL;\nEND\n$body$"
    )


def _sqlite_bump(ws: str, facet: str, value: str, delta: int, when: str = "1") -> str:
    key = f"workspace_id = {ws} AND facet = '{facet}' AND value = {value}"
    return (
        f"INSERT INTO contact_tallies (workspace_id, facet, value, n) SELECT {ws}, '{facet}',"
        f" {value}, 0 WHERE ({when}) AND NOT EXISTS (SELECT 1 FROM contact_tallies WHERE {key});"
        f" UPDATE contact_tallies SET n = n + ({delta}) WHERE ({when}) AND {key};"
    )


def _sqlite_triggers() -> list[str]:
    alive = "EXISTS (SELECT 1 FROM workspaces WHERE id = {}.workspace_id)"
    member_ws = (
        "coalesce((SELECT workspace_id FROM groups WHERE id = {r}.group_id),"
        " (SELECT workspace_id FROM contacts WHERE id = {r}.contact_id))"
    )
    insert = [_sqlite_bump("NEW.workspace_id", "", "0", 1)]
    delete = [_sqlite_bump("OLD.workspace_id", "", "0", -1)]
    update = []
    for facet, column in FACETS:
        insert.append(
            _sqlite_bump("NEW.workspace_id", facet, f"NEW.{column}", 1, f"NEW.{column} IS NOT NULL")
        )
        delete.append(
            _sqlite_bump(
                "OLD.workspace_id", facet, f"OLD.{column}", -1, f"OLD.{column} IS NOT NULL"
            )
        )
        update.append(
            f"CREATE TRIGGER contact_tallies_contacts_update_{column} AFTER UPDATE OF {column}"
            f" ON contacts WHEN OLD.{column} IS NOT NEW.{column} BEGIN "
            + _sqlite_bump(
                "OLD.workspace_id", facet, f"OLD.{column}", -1, f"OLD.{column} IS NOT NULL"
            )
            + _sqlite_bump(
                "NEW.workspace_id", facet, f"NEW.{column}", 1, f"NEW.{column} IS NOT NULL"
            )
            + " END"
        )
    new_ws, old_ws = member_ws.format(r="NEW"), member_ws.format(r="OLD")
    return [
        "CREATE TRIGGER contact_tallies_contacts_insert AFTER INSERT ON contacts BEGIN "
        + " ".join(insert)
        + " END",
        "CREATE TRIGGER contact_tallies_contacts_delete AFTER DELETE ON contacts"
        f" WHEN {alive.format('OLD')} BEGIN " + " ".join(delete) + " END",
        *update,
        "CREATE TRIGGER contact_tallies_groups_insert AFTER INSERT ON contact_groups BEGIN "
        + _sqlite_bump(new_ws, "g", "NEW.group_id", 1)
        + " END",
        "CREATE TRIGGER contact_tallies_groups_delete AFTER DELETE ON contact_groups"
        f" WHEN {old_ws} IN (SELECT id FROM workspaces) BEGIN "
        + _sqlite_bump(old_ws, "g", "OLD.group_id", -1)
        + " END",
    ]


BACKFILL = """
INSERT INTO contact_tallies (workspace_id, facet, value, n)
SELECT workspace_id, '', 0, count(*) FROM contacts GROUP BY workspace_id
UNION ALL SELECT workspace_id, 's', status_id, count(*) FROM contacts
    WHERE status_id IS NOT NULL GROUP BY workspace_id, status_id
UNION ALL SELECT workspace_id, 'o', source_id, count(*) FROM contacts
    WHERE source_id IS NOT NULL GROUP BY workspace_id, source_id
UNION ALL SELECT g.workspace_id, 'g', cg.group_id, count(*) FROM contact_groups cg
    JOIN groups g ON g.id = cg.group_id GROUP BY g.workspace_id, cg.group_id
"""


def upgrade() -> None:
    tally_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "contact_tallies",
        sa.Column("id", tally_id, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("facet", sa.String(length=1), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contact_tallies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_tallies")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_contact_tallies_workspace_id_facet_value",
        "contact_tallies",
        ["workspace_id", "facet", "value"],
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, event, referencing) in PG_FUNCTIONS.items():
            op.execute(_pg_body(name))
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _, _) in PG_FUNCTIONS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        names = [
            "contact_tallies_contacts_insert",
            "contact_tallies_contacts_delete",
            *(f"contact_tallies_contacts_update_{column}" for _, column in FACETS),
            "contact_tallies_groups_insert",
            "contact_tallies_groups_delete",
        ]
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_contact_tallies_workspace_id_facet_value", table_name="contact_tallies")
    op.drop_table("contact_tallies")
