"""team inbox: conversation state, message origins and statuses, live events, canned
replies, stored media, read receipts setting

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00.000000

Conversations get an assignee, a resolved time and an unread count; messages record who made
them (API token or dashboard user) and the HTTP status of Meta's answer; each status webhook
about a message is kept with its raw payload; outbound webhook events point at their
message. ``live_events`` feed the dashboard's event stream. The chat index of messages
gains ``id`` (a conversation's newest messages by one index range) in place of the old one,
so a send maintains no more indexes than before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from xobito.kit.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            "ix_chats_workspace_id_last_message_at_id",
            ["workspace_id", "last_message_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("graph_status", sa.Integer(), nullable=True))
        batch_op.drop_index("ix_messages_workspace_id_chat_id")
        batch_op.create_index(
            "ix_messages_workspace_id_chat_id_id", ["workspace_id", "chat_id", "id"], unique=False
        )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_webhook_events_message_id", ["message_id"], unique=False)
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("send_read_receipts", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "message_statuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_statuses_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_statuses")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("message_statuses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_statuses_message_id"), ["message_id"], unique=False
        )
    op.create_table(
        "live_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_live_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("live_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_live_events_workspace_id_id", ["workspace_id", "id"], unique=False
        )
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_canned_replies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint(
            "workspace_id", "shortcut", name=op.f("uq_canned_replies_workspace_id_shortcut")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_canned_replies_workspace_id"), ["workspace_id"], unique=False
        )
    op.create_table(
        "media_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("sha256", sa.String(length=128), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_media_objects_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_objects")),
        sa.UniqueConstraint(
            "workspace_id", "media_id", name=op.f("uq_media_objects_workspace_id_media_id")
        ),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("media_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_objects_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    for table in ("media_objects", "canned_replies", "live_events"):
        op.drop_table(table)
    op.drop_table("message_statuses")
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("send_read_receipts")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_events_message_id")
        batch_op.drop_column("message_id")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_workspace_id_chat_id_id")
        batch_op.create_index(
            "ix_messages_workspace_id_chat_id", ["workspace_id", "chat_id"], unique=False
        )
        batch_op.drop_column("graph_status")
        batch_op.drop_column("user_id")
        batch_op.drop_column("token_id")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index("ix_chats_workspace_id_last_message_at_id")
        batch_op.drop_column("unread_count")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("assigned_user_id")
