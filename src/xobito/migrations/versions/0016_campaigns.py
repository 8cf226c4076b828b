"""campaigns: campaigns, their recipients, the workers sending them, pacing per sending
number, opt-out keywords per workspace

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:00:48.483014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import xobito.kit.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("started_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_workers")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("template_name", sa.String(length=512), nullable=False),
        sa.Column("template_language", sa.String(length=16), nullable=False),
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("header", sa.JSON(), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("csv_rows", sa.JSON(), nullable=True),
        sa.Column("csv_report", sa.JSON(), nullable=True),
        sa.Column("scheduled_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rate_per_second", sa.Integer(), nullable=False),
        sa.Column("exclusions", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaigns_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaigns_state_scheduled_at", ["state", "scheduled_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_campaigns_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index("ix_campaigns_workspace_id_id", ["workspace_id", "id"], unique=False)

    op.create_table(
        "opt_out_settings",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("stop_keywords", sa.JSON(), nullable=False),
        sa.Column("start_keywords", sa.JSON(), nullable=False),
        sa.Column("stop_reply", sa.Text(), nullable=True),
        sa.Column("start_reply", sa.Text(), nullable=True),
        sa.Column("created_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_opt_out_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_opt_out_settings")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sending_numbers",
        sa.Column("phone_number_id", sa.String(length=64), nullable=False),
        sa.Column("rate_per_second", sa.Integer(), nullable=False),
        sa.Column("coexistence", sa.Boolean(), nullable=False),
        sa.Column("created_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sending_numbers_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("phone_number_id", name=op.f("pk_sending_numbers")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("sending_numbers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sending_numbers_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("pair_attempts", sa.Integer(), nullable=False),
        sa.Column("wamid", sa.String(length=255), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("sent_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("read_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replied_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xobito.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_campaign_recipients_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_recipients_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint(
            "campaign_id", "contact_id", name=op.f("uq_campaign_recipients_campaign_id_contact_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_recipients_campaign_id_id", ["campaign_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_recipients_due",
            ["campaign_id", "state", "next_attempt_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_campaign_recipients_message_id", ["message_id"], unique=False)
        batch_op.create_index("ix_campaign_recipients_worker_id", ["worker_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_campaign_recipients_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(
            "ix_campaign_recipients_workspace_id_contact_id",
            ["workspace_id", "contact_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_recipients_workspace_id_contact_id")
        batch_op.drop_index(batch_op.f("ix_campaign_recipients_workspace_id"))
        batch_op.drop_index("ix_campaign_recipients_worker_id")
        batch_op.drop_index("ix_campaign_recipients_message_id")
        batch_op.drop_index("ix_campaign_recipients_due")
        batch_op.drop_index("ix_campaign_recipients_campaign_id_id")

    op.drop_table("campaign_recipients")
    with op.batch_alter_table("sending_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sending_numbers_workspace_id"))

    op.drop_table("sending_numbers")
    op.drop_table("opt_out_settings")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_workspace_id_id")
        batch_op.drop_index(batch_op.f("ix_campaigns_workspace_id"))
        batch_op.drop_index("ix_campaigns_state_scheduled_at")

    op.drop_table("campaigns")
    op.drop_table("campaign_workers")
