"""Migration 0012 on a database that holds contacts (issue 9: emails unique regardless of case)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.migrations.conftest import sql, workspace
from xobito.kit.migrate import upgrade


def contact(url: str, ws: int, phone: str, email: str | None) -> None:
    sql(
        url,
        "INSERT INTO contacts (workspace_id, firstname, type, phone, email, is_enabled,"
        " is_opted_out, created_at, updated_at)"
        " VALUES (:ws, 'Ann', 'lead', :phone, :email, true, false,"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        ws=ws,
        phone=phone,
        email=email,
    )


def test_applies_to_contacts_and_then_refuses_case_variants(scratch_url: str) -> None:
    upgrade(scratch_url, "0011")
    a, b = workspace(scratch_url, "a"), workspace(scratch_url, "b")
    contact(scratch_url, a, "+14155550001", "Ann@Example.com")
    contact(scratch_url, a, "+14155550002", None)
    contact(scratch_url, a, "+14155550003", None)
    contact(scratch_url, b, "+14155550001", "ann@example.com")  # another workspace

    upgrade(scratch_url, "0012")

    assert len(sql(scratch_url, "SELECT id FROM contacts")) == 4
    with pytest.raises(IntegrityError):
        contact(scratch_url, a, "+14155550004", "ANN@example.COM")
    contact(scratch_url, a, "+14155550005", "other@example.com")
    contact(scratch_url, a, "+14155550006", None)  # several without an email stay allowed


def test_stops_and_changes_nothing_when_case_variants_exist(scratch_url: str) -> None:
    upgrade(scratch_url, "0011")
    a = workspace(scratch_url, "a")
    contact(scratch_url, a, "+14155550001", "Ann@Example.com")
    contact(scratch_url, a, "+14155550002", "ann@example.com")

    with pytest.raises(RuntimeError, match=r"Migration 0012 stopped, nothing was changed") as e:
        upgrade(scratch_url, "0012")

    assert "workspace 1: 2 contacts with 'ann@example.com'" in str(e.value).replace(
        f"workspace {a}:", "workspace 1:"
    )
    (version,) = sql(scratch_url, "SELECT version_num FROM alembic_version")
    assert version[0] == "0011"
    emails = sorted(r[0] for r in sql(scratch_url, "SELECT email FROM contacts"))
    assert emails == ["Ann@Example.com", "ann@example.com"]

    sql(scratch_url, "UPDATE contacts SET email = NULL WHERE email = 'ann@example.com'")
    upgrade(scratch_url, "0012")  # fixed by the operator: it applies
    (version,) = sql(scratch_url, "SELECT version_num FROM alembic_version")
    assert version[0] == "0012"
