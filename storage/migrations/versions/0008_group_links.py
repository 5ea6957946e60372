"""group links: one-time deep links an admin opens to set a group's API key in private

Revision ID: 0008_group_links
Revises: 0010_threads

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision = "0008_group_links"
down_revision = "0010_threads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("group_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_links_chat_id"), ["chat_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_links_chat_id"))
    op.drop_table("group_links")
