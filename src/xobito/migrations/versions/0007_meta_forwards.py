"""meta webhook forwards: endpoints get a kind; event names up to 64 characters

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00.000000

A forward's event name is the Meta field it carries (up to 34 characters, e.g.
``message_template_components_update``). SQLite does not enforce VARCHAR lengths, so the
widening is only done where it matters (PostgreSQL: a catalog change, no table rewrite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WIDENED = (("webhook_events", "event"), ("webhook_logs", "event"))


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="xobito", nullable=False)
        )
    if op.get_bind().dialect.name != "sqlite":
        for table, column in WIDENED:
            op.alter_column(
                table, column, type_=sa.String(length=64), existing_type=sa.String(length=32)
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table, column in WIDENED:
            op.alter_column(
                table, column, type_=sa.String(length=32), existing_type=sa.String(length=64)
            )
    with op.batch_alter_table("webhook_endpoints", schema=None) as batch_op:
        batch_op.drop_column("kind")
