"""The contact list, the API's hottest read, as one statement.

On PostgreSQL the page is rendered to JSON by the database itself (``json_build_object`` in
the exact shape of ``contact_record``) and sent on the driver connection, so the Python side
does one round trip and no per-row work; ``tests/contact/test_listing.py`` holds the two
renderings equal. Other databases use the same statement shape through SQLAlchemy and build
records in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from xobito.models import Contact, ContactGroup, ContactTally

TABLE = Contact.__table__
PG_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
# contact_record's timestamp format, ``2026-04-16T12:00:00.000000Z``, in PostgreSQL's words.
PG_TIMESTAMP = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def filters(
    *,
    search: str | None,
    type: str | None,
    status_id: int | None,
    source_id: int | None,
    group_id: int | None,
    is_opted_out: bool | None,
) -> dict[str, Any]:
    """The given list filters as statement parameters (``search`` as an escaped pattern)."""
    given: dict[str, Any] = {
        "type": type,
        "status_id": status_id,
        "source_id": source_id,
        "group_id": group_id,
        "is_opted_out": is_opted_out,
    }
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        given["search"] = f"%{escaped}%"
    return {k: v for k, v in given.items() if v is not None}


def _search() -> ColumnElement[bool]:
    full_name = Contact.firstname + " " + Contact.lastname
    columns = (
        Contact.firstname,
        Contact.lastname,
        full_name,
        Contact.phone,
        Contact.email,
        Contact.company,
    )
    return or_(*(col.ilike(bindparam("search"), escape="\\") for col in columns))


# SQLite narrows a search through the FTS5 table ``contacts_search`` (migration 0015) on the
# searchable fields joined by spaces: a field's match is a substring of it, so the FTS5
# match narrows without losing rows and the field-by-field rule then decides.
SEARCH_INDEX = table("contacts_search", column("rowid"), column("body"))
# PostgreSQL: the table ``contacts_search`` (migration 0018) holds each contact's fields
# lower-cased and apart (the name part, then phone, email and company, separated by
# SEPARATOR), under a GIN trigram index. A term without SEPARATOR matches ``body`` exactly
# when it matches a field, so one LIKE there is the whole rule.
PG_SEARCH = table("contacts_search", column("id"), column("workspace_id"), column("body"))
SEPARATOR = "\x1f"


def narrowed(given: dict[str, Any], dialect: str) -> dict[str, Any]:
    """``given`` with the search in the form ``dialect`` serves from its index: on
    PostgreSQL the search table's pattern replaces the field-by-field rule (unless the term
    holds the separator, which no real search does); SQLite's FTS5 table narrows patterns
    without escapes (its LIKE uses the index only without ``ESCAPE``)."""
    pattern = given.get("search")
    if pattern is None:
        return given
    if dialect == "postgresql" and SEPARATOR not in pattern:
        rest = {k: v for k, v in given.items() if k != "search"}
        return {**rest, "search_body": pattern}
    if dialect == "sqlite" and "\\" not in pattern:
        return {**given, "search_fts": pattern}
    return given


def _searched(ids: Any) -> ColumnElement[bool]:
    return Contact.id.in_(ids)


def _pg_matches() -> Select[Any]:
    s = PG_SEARCH.c
    return select(s.id).where(
        s.workspace_id == bindparam("workspace_id"),
        s.body.like(func.lower(bindparam("search_body")), escape="\\"),
    )


def _matched(keys: frozenset[str]) -> Any:
    """PostgreSQL: the matching ids as a MATERIALIZED CTE, so the page and the total of
    one statement share a single index scan (``None`` without a search)."""
    if "search_body" not in keys:
        return None
    return _pg_matches().cte("matched").prefix_with("MATERIALIZED")


_CONDITIONS: dict[str, Callable[[], ColumnElement[bool]]] = {
    "search": _search,
    "search_body": lambda: _searched(_pg_matches()),
    "search_fts": lambda: Contact.id.in_(
        select(SEARCH_INDEX.c.rowid).where(SEARCH_INDEX.c.body.like(bindparam("search_fts")))
    ),
    "type": lambda: Contact.type == bindparam("type"),
    "status_id": lambda: Contact.status_id == bindparam("status_id"),
    "source_id": lambda: Contact.source_id == bindparam("source_id"),
    "group_id": lambda: exists().where(
        ContactGroup.contact_id == Contact.id, ContactGroup.group_id == bindparam("group_id")
    ),
    "is_opted_out": lambda: Contact.is_opted_out == bindparam("is_opted_out"),
}


# Orders of the dashboard's list (the API lists by id); each ends with the id, so pages are
# stable. A leading "-" sorts descending.
SORTS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "name": ("firstname", "lastname", "id"),
    "phone": ("phone", "id"),
    "created": ("created_at", "id"),
}


def order_by(columns: Any, sort: str) -> list[Any]:
    """ORDER BY clauses of ``sort`` (a key of ``SORTS``, maybe "-"-prefixed) on ``columns``
    (the table's or a CTE's ``.c``). Names sort case-insensitively."""
    descending = sort.startswith("-")
    clauses = []
    for name in SORTS[sort.lstrip("-")]:
        column = columns[name]
        if name in ("firstname", "lastname"):
            column = func.lower(column)
        clauses.append(column.desc() if descending else column.asc())
    return clauses


def conditions(keys: frozenset[str], matched: Any = None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a list filtered by ``keys``; a search reads ``matched`` (see
    ``_matched``) when the statement has it."""
    return [
        Contact.workspace_id == bindparam("workspace_id"),
        *(
            _searched(select(matched.c.id))
            if k == "search_body" and matched is not None
            else _CONDITIONS[k]()
            for k in sorted(keys)
        ),
    ]


# Migration 0019 (PostgreSQL): the tallies count each workspace's contacts per block of
# POSITION_BLOCK ids (facet "p"), so an unfiltered page by id at an offset of DEEP_OFFSET or
# more starts its index walk at the block holding its first row.
POSITION_BLOCK = 1024
DEEP_OFFSET = POSITION_BLOCK


def deep(keys: frozenset[str], sort: str, offset: int, dialect: str) -> bool:
    """Whether a page starts from the position blocks rather than walking the index."""
    return dialect == "postgresql" and not keys and sort == "id" and offset >= DEEP_OFFSET


def _deep_ids() -> Select[Any]:
    """The page's ids from the block holding row ``offset``: the blocks summed in id order
    give that block and how many rows come before it, and the walk skips the rest."""
    t = ContactTally
    blocks = (
        select(t.value, cast(func.sum(t.n), BigInteger).label("n"))
        .where(t.workspace_id == bindparam("workspace_id"), t.facet == literal_column("'p'"))
        .group_by(t.value)
        .subquery("blocks")
    )
    upto = cast(func.sum(blocks.c.n).over(order_by=blocks.c.value), BigInteger)
    running = select(blocks.c.value, blocks.c.n, upto.label("upto")).subquery("running")
    start = (
        select(running.c.value, (running.c.upto - running.c.n).label("before"))
        .where(running.c.upto > bindparam("offset"))
        .order_by(running.c.value)
        .limit(1)
        .cte("start")
    )
    first_id = select(start.c.value * POSITION_BLOCK).scalar_subquery()
    skip = select(bindparam("offset") - start.c.before).scalar_subquery()
    return (
        select(TABLE.c.id)
        .where(TABLE.c.workspace_id == bindparam("workspace_id"), TABLE.c.id >= first_id)
        .order_by(TABLE.c.id)
        .limit(bindparam("limit"))
        .offset(skip)
    )


def _page_cte(
    keys: frozenset[str], sort: str = "id", matched: Any = None, deep: bool = False
) -> Any:
    """The page's rows. Its ids are found first (an index-only walk past the offset, from
    the nearest position block when ``deep``; a search alone: its matches in id order),
    then only those rows are read."""
    if deep:
        found: Select[Any] = _deep_ids()
    elif matched is not None and keys == {"search_body"} and sort == "id":
        found = select(matched.c.id).order_by(matched.c.id)
    else:
        found = (
            select(TABLE.c.id).where(*conditions(keys, matched)).order_by(*order_by(TABLE.c, sort))
        )
    if not deep:
        found = found.limit(bindparam("limit")).offset(bindparam("offset"))
    ids = found.subquery("page_ids")
    return select(TABLE).join(ids, TABLE.c.id == ids.c.id).cte("page")


# Filters whose exact count a tally keeps (migration 0014): the filter's facet.
TALLIED = {"": "", "status_id": "s", "source_id": "o", "group_id": "g"}


def tallied(keys: frozenset[str]) -> bool:
    """Whether the total of a list filtered by ``keys`` is read from ``contact_tallies``
    instead of counted: no filter, or one of status, source and group alone."""
    return len(keys) <= 1 and all(k in TALLIED for k in keys)


def _tally(keys: frozenset[str]) -> Any:
    [key] = keys or {""}
    value: Any = bindparam(key) if key else 0
    return select(cast(func.coalesce(func.sum(ContactTally.n), 0), BigInteger)).where(
        ContactTally.workspace_id == bindparam("workspace_id"),
        ContactTally.facet == TALLIED[key],
        ContactTally.value == value,
    )


def _total(keys: frozenset[str], matched: Any = None) -> Any:
    if tallied(keys):
        return _tally(keys).scalar_subquery()
    if matched is not None and keys == {"search_body"}:
        return select(func.count()).select_from(matched).scalar_subquery()
    counted = select(func.count()).select_from(TABLE).where(*conditions(keys, matched))
    return counted.scalar_subquery()


@lru_cache(maxsize=64)
def rows_statement(keys: frozenset[str], sort: str = "id", deep: bool = False) -> Select[Any]:
    """Page rows with ``total_count`` and comma-separated ``group_ids`` (any database;
    ``deep`` on PostgreSQL only)."""
    matched = _matched(keys)
    page = _page_cte(keys, sort, matched, deep)
    groups = (
        select(func.aggregate_strings(cast(ContactGroup.group_id, String), ","))
        .where(ContactGroup.contact_id == page.c.id)
        .scalar_subquery()
    )
    total = _total(keys, matched).label("total_count")
    return select(page, total, groups.label("group_ids")).order_by(*order_by(page.c, sort))


@lru_cache(maxsize=64)
def count_statement(keys: frozenset[str]) -> Select[Any]:
    if tallied(keys):
        statement: Select[Any] = _tally(keys)
        return statement
    if keys == {"search_body"}:
        return select(func.count()).select_from(_pg_matches().subquery())
    return select(func.count()).select_from(TABLE).where(*conditions(keys))


def _pg_record(page: Any) -> Any:
    c = page.c
    empty: Any = literal_column("'[]'::json")
    group_ids = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(ContactGroup.group_id, ContactGroup.group_id)),
                empty,
            )
        )
        .where(ContactGroup.contact_id == c.id)
        .scalar_subquery()
    )

    def ts(column: Any) -> Any:
        return func.to_char(func.timezone("UTC", column), PG_TIMESTAMP)

    pairs: list[Any] = []
    for key, value in (
        ("id", c.id),
        ("tenant_id", c.workspace_id),
        ("firstname", c.firstname),
        ("lastname", c.lastname),
        ("company", c.company),
        ("type", c.type),
        ("description", c.description),
        ("country_id", c.country_id),
        ("zip", c.zip),
        ("city", c.city),
        ("state", c.state),
        ("address", c.address),
        ("website", c.website),
        ("email", c.email),
        ("phone", c.phone),
        ("source_id", c.source_id),
        ("status_id", c.status_id),
        ("assigned_id", c.assigned_id),
        ("group_id", group_ids),
        ("is_enabled", cast(c.is_enabled, Integer)),
        ("is_opted_out", cast(c.is_opted_out, Integer)),
        ("opted_out_at", ts(c.opted_out_at)),
        ("created_at", ts(c.created_at)),
        ("updated_at", ts(c.updated_at)),
    ):
        pairs += [literal_column(f"'{key}'"), value]
    return func.json_build_object(*pairs)


@lru_cache(maxsize=64)
def pg_json_statement(
    keys: frozenset[str], deep: bool = False
) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """PostgreSQL: ``(sql, parameter names in order, constant parameters)`` of a one-row
    statement returning the page as JSON text, its row count and the total."""
    matched = _matched(keys)
    page = _page_cte(keys, matched=matched, deep=deep)
    empty: Any = literal_column("'[]'::json")
    data = func.coalesce(func.json_agg(aggregate_order_by(_pg_record(page), page.c.id)), empty)
    stmt = select(
        cast(data, Text).label("data"),
        func.count(page.c.id).label("n"),
        _total(keys, matched).label("total"),
    ).select_from(page)
    compiled = stmt.compile(dialect=PG_DIALECT)
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


@lru_cache(maxsize=64)
def after_statement(keys: frozenset[str]) -> Select[Any]:
    """Keyset pages (``?cursor=``): up to ``limit`` rows with ids above ``after`` in id
    order, with comma-separated ``group_ids``; an index range, however deep."""
    page = (
        select(TABLE)
        .where(*conditions(keys), Contact.id > bindparam("after"))
        .order_by(Contact.id)
        .limit(bindparam("limit"))
        .cte("page")
    )
    groups = (
        select(func.aggregate_strings(cast(ContactGroup.group_id, String), ","))
        .where(ContactGroup.contact_id == page.c.id)
        .scalar_subquery()
    )
    return select(page, groups.label("group_ids")).order_by(page.c.id)
