"""activations and purchase intents remember the forum topic they were bought in, and
the buyer's private chat when their codes go there

Revision ID: 0010_threads
Revises: 0007_menus

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_threads"
down_revision = "0007_menus"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("activations", "purchase_intents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("message_thread_id", sa.BigInteger(), nullable=True))
            batch_op.add_column(sa.Column("codes_chat_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for table in ("purchase_intents", "activations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("codes_chat_id")
            batch_op.drop_column("message_thread_id")
