"""several instances: leases on shared work, one row per Buy press that went ahead, and
the code messages being sent

Revision ID: 0011_leases
Revises: 0009_group_rules

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0011_leases"
down_revision = "0009_group_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", AutoString(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "buy_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("data", AutoString(length=64), nullable=False),
        sa.Column("state", AutoString(length=8), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "message_id", "data"),
    )


    op.create_table(
        "code_sends",
        sa.Column("code_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("holder", AutoString(length=128), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code_id"),
    )


def downgrade() -> None:
    op.drop_table("code_sends")
    op.drop_table("buy_claims")
    op.drop_table("leases")
