"""contact search and list indexes: trigrams (PostgreSQL) or FTS5 trigrams (SQLite) for
``?search=``; status, source and group filters in id order; the dashboard's name order

``?search=`` matches a substring of the first name, last name, full name, phone, email or
company, case-insensitively. A B-tree cannot serve ``ILIKE '%term%'``, so each search read
every contact of the workspace. Now:

- PostgreSQL: ``pg_trgm`` and one GIN trigram index on the searchable fields joined by
  spaces (``contact.listing.SEARCH_TEXT``); the list narrows to the rows that index finds,
  then applies the field-by-field conditions (every field's match is a substring of the
  joined text, so nothing is lost).
- SQLite: an FTS5 table with the trigram tokenizer (``contacts_search``, the same joined
  text, rowid = contact id) kept by triggers; searches without ``%``, ``_`` or ``\\`` narrow
  through it the same way.

Filters by status and source walk ``(status_id, id)`` / ``(source_id, id)``, a group's
members ``(group_id, contact_id)`` (each replaces the one-column index it extends, which the
foreign keys' cascades also use), and the dashboard's default order by name has
``(workspace_id, lower(firstname), lower(lastname), id)``.

On PostgreSQL the indexes are built inside the migration's transaction, which holds writes
to ``contacts`` until it commits (about 30 s per million contacts on a small machine).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# PostgreSQL's index expression until migration 0018; SQLite's FTS5 body.
SEARCH_TEXT = (
    "coalesce({t}firstname, '') || ' ' || coalesce({t}lastname, '') || ' ' || {t}phone"
    " || ' ' || coalesce({t}email, '') || ' ' || coalesce({t}company, '')"
)
SEARCHED = ("firstname", "lastname", "phone", "email", "company")
REPLACED = (
    ("contacts", "ix_contacts_status_id", "status_id", "ix_contacts_status_id_id", "status_id, id"),
    ("contacts", "ix_contacts_source_id", "source_id", "ix_contacts_source_id_id", "source_id, id"),
    (
        "contact_groups",
        "ix_contact_groups_group_id",
        "group_id",
        "ix_contact_groups_group_id_contact_id",
        "group_id, contact_id",
    ),
)
NAME_ORDER = "workspace_id, lower(firstname), lower(lastname), id"


def _sqlite_search() -> list[str]:
    new, old = SEARCH_TEXT.format(t="NEW."), SEARCH_TEXT.format(t="OLD.")
    return [
        "CREATE VIRTUAL TABLE contacts_search USING fts5(body, tokenize = 'trigram')",
        f"INSERT INTO contacts_search (rowid, body) SELECT id, {SEARCH_TEXT.format(t='')}"
        " FROM contacts",
        "CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN"
        f" INSERT INTO contacts_search (rowid, body) VALUES (NEW.id, {new}); END",
        "CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN"
        " DELETE FROM contacts_search WHERE rowid = OLD.id; END",
        f"CREATE TRIGGER contacts_search_update AFTER UPDATE OF {', '.join(SEARCHED)}"
        f" ON contacts WHEN ({new}) IS NOT ({old}) BEGIN"
        f" UPDATE contacts_search SET body = {new} WHERE rowid = NEW.id; END",
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_contacts_search ON contacts"
            f" USING gin (({SEARCH_TEXT.format(t='')}) gin_trgm_ops)"
        )
    else:
        for statement in _sqlite_search():
            op.execute(statement)
    for table, old, _, new, columns in REPLACED:
        op.execute(f"CREATE INDEX {new} ON {table} ({columns})")
        op.execute(f"DROP INDEX {old}")
    op.execute(f"CREATE INDEX ix_contacts_workspace_id_name ON contacts ({NAME_ORDER})")
    if postgres:
        op.execute("ANALYZE contacts")
        op.execute("ANALYZE contact_groups")


def downgrade() -> None:
    op.execute("DROP INDEX ix_contacts_workspace_id_name")
    for table, old, column, new, _ in REPLACED:
        op.execute(f"CREATE INDEX {old} ON {table} ({column})")
        op.execute(f"DROP INDEX {new}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_contacts_search")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER contacts_search_{name}")
        op.execute("DROP TABLE contacts_search")
