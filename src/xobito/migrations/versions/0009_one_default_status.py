"""one default status per workspace: partial unique index on statuses (workspace_id)

Concurrent requests could leave several defaults (issue 9). A workspace that has several
keeps the one sends have been using (the lowest id, as ``StatusRepository.default`` picks
it); the others stop being defaults.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

statuses = sa.table(
    "statuses",
    sa.column("id", sa.Integer()),
    sa.column("workspace_id", sa.Integer()),
    sa.column("isdefault", sa.Boolean()),
)


def upgrade() -> None:
    first = (
        sa.select(sa.func.min(statuses.c.id))
        .where(statuses.c.isdefault.is_(True))
        .group_by(statuses.c.workspace_id)
    )
    op.execute(
        statuses.update()
        .where(statuses.c.isdefault.is_(True), statuses.c.id.not_in(first))
        .values(isdefault=False)
    )
    op.create_index(
        "uq_statuses_workspace_id_default",
        "statuses",
        ["workspace_id"],
        unique=True,
        sqlite_where=sa.text("isdefault"),
        postgresql_where=sa.text("isdefault"),
    )


def downgrade() -> None:
    op.drop_index("uq_statuses_workspace_id_default", table_name="statuses")
