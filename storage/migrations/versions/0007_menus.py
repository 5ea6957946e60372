"""users remember their open buy menu

Revision ID: 0007_menus
Revises: 0004_text_columns

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

revision = "0007_menus"
down_revision = "0004_text_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("menu_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("menu_kind", AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("menu_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("menu_at")
        batch_op.drop_column("menu_kind")
        batch_op.drop_column("menu_message_id")
