"""group purchase rules: who may buy, running limit, where codes go, chosen members,
reservations

Revision ID: 0009_group_rules
Revises: 0008_group_links

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0009_group_rules"
down_revision = "0008_group_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("who_may_buy", AutoString(length=8), nullable=False,
                                      server_default="all"))
        batch_op.add_column(sa.Column("running_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("codes_to", AutoString(length=8), nullable=False,
                                      server_default="group"))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                      server_default="0"))
    op.create_table(
        "group_members",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", AutoString(length=128), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "user_id"),
    )
    op.create_table(
        "group_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("member_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("state", AutoString(length=12), nullable=False),
        sa.Column("activation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("group_reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_reservations_chat_id"), ["chat_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_group_reservations_state"), ["state"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_reservations_state"))
        batch_op.drop_index(batch_op.f("ix_group_reservations_chat_id"))
    op.drop_table("group_reservations")
    op.drop_table("group_members")
    with op.batch_alter_table("group_settings", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("codes_to")
        batch_op.drop_column("running_limit")
        batch_op.drop_column("who_may_buy")
