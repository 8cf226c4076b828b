"""contact imports: uploaded CSV files (in 1 MiB chunks), their progress and per-row errors

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 05:07:54
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import xobito.kit.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("header", sa.JSON(), nullable=False),
        sa.Column("delimiter", sa.String(length=1), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("defaults", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("resume_offset", sa.BigInteger(), nullable=True),
        sa.Column("resume_line", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("created_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_imports_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contact_imports_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_imports")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contact_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_imports_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "contact_import_chunks",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["contact_imports.id"],
            name=op.f("fk_contact_import_chunks_import_id_contact_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_contact_import_chunks")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "contact_import_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["contact_imports.id"],
            name=op.f("fk_contact_import_errors_import_id_contact_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_import_errors")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contact_import_errors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_import_errors_import_id"), ["import_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_import_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_import_errors_import_id"))

    op.drop_table("contact_import_errors")
    op.drop_table("contact_import_chunks")
    with op.batch_alter_table("contact_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_imports_workspace_id"))

    op.drop_table("contact_imports")
