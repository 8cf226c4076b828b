"""Migration 0009 on a database holding several defaults per workspace (issue 9)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import sql, workspace
from xobito.kit.migrate import upgrade


def status(url: str, ws: int, name: str, isdefault: bool) -> None:
    sql(
        url,
        "INSERT INTO statuses (workspace_id, name, isdefault, created_at, updated_at)"
        " VALUES (:ws, :name, :d, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        ws=ws,
        name=name,
        d=isdefault,
    )


def test_keeps_the_first_default_of_each_workspace(scratch_url: str) -> None:
    upgrade(scratch_url, "0008")
    a, b, c = (workspace(scratch_url, s) for s in ("a", "b", "c"))
    for name, isdefault in (("Plain", False), ("First", True), ("Second", True), ("Third", True)):
        status(scratch_url, a, name, isdefault)
    status(scratch_url, b, "Only", True)
    status(scratch_url, c, "None", False)

    upgrade(scratch_url, "0009")

    rows = sql(scratch_url, "SELECT workspace_id, name FROM statuses WHERE isdefault")
    assert sorted(rows) == [(a, "First"), (b, "Only")]
    assert len(sql(scratch_url, "SELECT id FROM statuses")) == 6  # nothing deleted
    status(scratch_url, c, "Two", True)
    with pytest.raises(IntegrityError):  # the index holds from now on
        status(scratch_url, c, "Three", True)
    status(scratch_url, c, "Not default", False)
