"""templates.quality: Meta's quality score of a template (GREEN, YELLOW, RED, UNKNOWN)

Shown on the dashboard's template list; filled by the next sync from Meta.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.add_column(sa.Column("quality", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("templates") as batch:
        batch.drop_column("quality")
