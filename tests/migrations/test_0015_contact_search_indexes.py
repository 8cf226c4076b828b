"""Migration 0015 on a database that already holds contacts: searches narrowed by the new
index find the contacts stored before it, and the ones written after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.migrations.conftest import scalar, sql, workspace
from tests.migrations.test_0014_contact_tallies import contact
from xobito.contact import listing
from xobito.kit.migrate import upgrade

# PostgreSQL's narrowing at this revision (migration 0018 replaced it by a table).
TRIGRAMS = (
    "(coalesce(contacts.firstname, '') || ' ' || coalesce(contacts.lastname, '') || ' ' ||"
    " contacts.phone || ' ' || coalesce(contacts.email, '') || ' ' ||"
    " coalesce(contacts.company, '')) ILIKE :search ESCAPE '\\'"
)


def searched(url: str, ws: int, term: str) -> int:
    """How many contacts of ``ws`` a search finds, narrowed by the index as the list did at
    revision 0015 (SQLite still does)."""
    given = {"search": f"%{term}%"}
    if url.startswith("sqlite"):
        given = listing.narrowed(given, "sqlite")
        assert len(given) == 2  # the index narrows it
        statement: Any = listing.count_statement(frozenset(given))  # a search is counted
    else:
        statement = text(
            f"SELECT count(*) FROM contacts WHERE workspace_id = :workspace_id AND {TRIGRAMS}"
        )
    return scalar(url, statement, {**given, "workspace_id": ws})


def test_searches_find_what_was_there_before(scratch_url: str) -> None:
    url = scratch_url
    upgrade(url, "0014")
    a, b = workspace(url, "a"), workspace(url, "b")
    for i in range(20):
        contact(url, a, f"+1415000{i:04d}", None, None)
    contact(url, b, "+14159990000", None, None)
    sql(url, "UPDATE contacts SET firstname = 'Joanna', lastname = 'Silva' WHERE id <= 3")

    upgrade(url, "0015")

    assert searched(url, a, "silva") == 3
    assert searched(url, a, "+1415000") == 20
    assert searched(url, b, "9990") == 1
    assert searched(url, a, "9990") == 0
    sql(url, "UPDATE contacts SET lastname = 'Costa' WHERE id = 1")
    sql(url, "DELETE FROM contacts WHERE id = 2")
    contact(url, a, "+14150001234", None, None)
    sql(url, "UPDATE contacts SET lastname = 'Silvano' WHERE phone = '+14150001234'")
    assert searched(url, a, "silva") == 2
    assert searched(url, a, "costa") == 1
