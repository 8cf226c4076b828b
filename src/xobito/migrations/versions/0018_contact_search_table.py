"""contact search table (PostgreSQL): the searchable text of each contact in a narrow table
of its own, lower-cased, with the fields apart

A ``?search=`` of a common name ("silva": 16,600 of a million) counted its matches through
the GIN trigram index on ``contacts`` (migration 0015), then re-read 12,000 pages of the
wide ``contacts`` table and evaluated seven ``ILIKE`` per row (the joined text, then each
field), once for the page and once more for the total: 130 ms. Now ``contacts_search``
holds ``(id, workspace_id, body)``, kept by statement-level triggers in the transaction of
each change, where ``body`` is

    lower(concat_ws(' ', firstname, lastname) || US || phone || US || email || US || company)

with US the unit separator (``chr(31)``). A search term without that character matches
``body`` exactly when it matches one of the fields (a substring of the name part lies in
the first name, the last name or the full name; it cannot span a separator), so the list
needs no field-by-field recheck: one ``LIKE`` on a short row (PostgreSQL's ``ILIKE`` is
``lower(text) LIKE lower(pattern)`` in a UTF-8 database, so lower-casing once at write time
gives the same answer). The trigram index moves from ``contacts`` to this table.

SQLite keeps its FTS5 table ``contacts_search`` (migration 0015) unchanged.

The table is filled and indexed inside the migration's transaction; ``CREATE TRIGGER``
holds writers of ``contacts`` out until it commits, so no change falls between the copy and
the triggers (about 15 s per million contacts on a small machine).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# contact.listing's PG_SEARCH reads it; tests/contact/test_search.py holds it to the API's rule.
BODY = (
    "lower(concat_ws(' ', {t}firstname, {t}lastname) || chr(31) || {t}phone || chr(31)"
    " || coalesce({t}email, '') || chr(31) || coalesce({t}company, ''))"
)
SEARCHED = ("firstname", "lastname", "phone", "email", "company")
TRIGGERS = {
    "contacts_search_insert": (
        "INSERT",
        "NEW TABLE AS added",
        "INSERT INTO contacts_search (id, workspace_id, body)"
        f" SELECT a.id, a.workspace_id, {BODY.format(t='a.')} FROM added a",
    ),
    "contacts_search_delete": (
        "DELETE",
        "OLD TABLE AS removed",
        "DELETE FROM contacts_search s USING removed r WHERE s.id = r.id",
    ),
    # Transition tables allow no column list: every UPDATE fires it, and only the rows
    # whose searchable text changed are written.
    "contacts_search_update": (
        "UPDATE",
        "NEW TABLE AS added",
        f"UPDATE contacts_search s SET body = {BODY.format(t='a.')}, workspace_id = a.workspace_id"
        f" FROM added a WHERE s.id = a.id AND (s.body IS DISTINCT FROM {BODY.format(t='a.')}"
        " OR s.workspace_id <> a.workspace_id)",
    ),
}
# TRUNCATE fires no row or DELETE triggers: it empties the search table too.
TRUNCATE = "contacts_search_truncate"
OLD_INDEX = (
    "coalesce(firstname, '') || ' ' || coalesce(lastname, '') || ' ' || phone"
    " || ' ' || coalesce(email, '') || ' ' || coalesce(company, '')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE contacts_search (id integer PRIMARY KEY, workspace_id integer NOT NULL,"
        " body text NOT NULL)"
    )
    for name, (event, referencing, statement) in TRIGGERS.items():
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            f"BEGIN\n{statement};\nRETURN NULL;\nEND\n$body$"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON contacts REFERENCING {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    op.execute(
        f"CREATE FUNCTION {TRUNCATE}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
        "BEGIN\nTRUNCATE contacts_search;\nRETURN NULL;\nEND\n$body$"
    )
    op.execute(
        f"CREATE TRIGGER {TRUNCATE} AFTER TRUNCATE ON contacts"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE}()"
    )
    op.execute(
        "INSERT INTO contacts_search (id, workspace_id, body)"
        f" SELECT id, workspace_id, {BODY.format(t='')} FROM contacts ORDER BY id"
    )
    op.execute(
        "CREATE INDEX ix_contacts_search_body ON contacts_search USING gin (body gin_trgm_ops)"
    )
    op.execute("DROP INDEX ix_contacts_search")
    op.execute("ANALYZE contacts_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX ix_contacts_search ON contacts USING gin (({OLD_INDEX}) gin_trgm_ops)"
    )
    for name in (*TRIGGERS, TRUNCATE):
        op.execute(f"DROP TRIGGER {name} ON contacts")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP TABLE contacts_search")
