"""contacts: an email is unique per workspace regardless of case

``A@x.com`` and ``a@x.com`` were two emails (issue 9). The rules already compare emails
lower-cased; this index makes the database agree, so concurrent writes that differ only in
case cannot both land. A database already holding such pairs is not changed silently: the
upgrade stops before touching anything and names the contacts to fix.

On SQLite the old case-sensitive constraint stays (dropping it means rebuilding ``contacts``,
and with foreign keys on, dropping the old table would cascade into every table that refers
to it); the new index implies it, so it costs an index but changes no answer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "uq_contacts_workspace_id_lower_email"
SHOWN = 20  # pairs named in the error; the count says how many there are


def upgrade() -> None:
    bind = op.get_bind()
    clashes = bind.execute(
        sa.text(
            "SELECT workspace_id, lower(email) AS email, COUNT(*) AS n, MIN(id) AS first"
            " FROM contacts WHERE email IS NOT NULL"
            " GROUP BY workspace_id, lower(email) HAVING COUNT(*) > 1"
            " ORDER BY workspace_id, lower(email)"
        )
    ).all()
    if clashes:
        shown = "; ".join(
            f"workspace {ws}: {n} contacts with {email!r} (the first is contact {first})"
            for ws, email, n, first in clashes[:SHOWN]
        )
        more = f" and {len(clashes) - SHOWN} more" if len(clashes) > SHOWN else ""
        raise RuntimeError(
            "Migration 0012 stopped, nothing was changed: emails are now unique per workspace "
            f"regardless of case, and {len(clashes)} email(s) are used by several contacts "
            f"that differ only in case ({shown}{more}). Change or clear the email of all but "
            "one contact of each, then upgrade again."
        )
    if bind.dialect.name == "postgresql":
        op.drop_constraint("uq_contacts_workspace_id_email", "contacts", type_="unique")
    op.create_index(INDEX, "contacts", ["workspace_id", sa.text("lower(email)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="contacts")
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint(
            "uq_contacts_workspace_id_email", "contacts", ["workspace_id", "email"]
        )
