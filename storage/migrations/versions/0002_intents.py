"""purchase intents: a purchase is recorded before it is sent

Revision ID: 0002_intents
Revises: 0006_cards

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0002_intents"
down_revision = "0006_cards"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchase_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("buyer_id", sa.BigInteger(), nullable=False),
        sa.Column("service", AutoString(length=32), nullable=False),
        sa.Column("country", sa.Integer(), nullable=True),
        sa.Column("operator", sa.Integer(), nullable=True),
        sa.Column("max_price", sa.Float(), nullable=True),
        sa.Column("known_before", AutoString(), nullable=True),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("state", AutoString(length=16), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("candidates", AutoString(), nullable=True),
        sa.Column("activation_id", sa.Integer(), nullable=True),
        sa.Column("settled_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purchase_intents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_intents_account_id"), ["account_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_intents_chat_id"), ["chat_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_purchase_intents_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("purchase_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_intents_state"))
        batch_op.drop_index(batch_op.f("ix_purchase_intents_chat_id"))
        batch_op.drop_index(batch_op.f("ix_purchase_intents_account_id"))
    op.drop_table("purchase_intents")
