"""Migration 0015 on a database that already holds contacts: searches narrowed by the new
index find the contacts stored before it, and the ones written after."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from tests.migrations.conftest import sql, workspace
from tests.migrations.test_0014_contact_tallies import contact
from xobito.contact import listing
from xobito.kit.migrate import upgrade


def searched(url: str, ws: int, term: str) -> int:
    dialect = postgresql.dialect(paramstyle="named")
    if url.startswith("sqlite"):
        dialect = sqlite.dialect(paramstyle="named")
    given = listing.narrowed({"search": f"%{term}%"}, dialect.name)
    assert len(given) == 2  # the index narrows it
    # count_statement would read the tally for no filter; a search is always counted.
    compiled = listing.count_statement(frozenset(given)).compile(dialect=dialect)
    params = {**compiled.params, **given, "workspace_id": ws}
    [(n,)] = sql(url, str(compiled), **params)
    return int(n)


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
