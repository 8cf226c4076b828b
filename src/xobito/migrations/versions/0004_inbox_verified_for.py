"""inbox events record the workspaces their signature verified

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:00:00.000000

Rows stored before this have NULL: the worker holds them to what their signature covered
when they were accepted (the workspaces their routing keys reached).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_for", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_column("verified_for")
