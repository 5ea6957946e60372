"""codes.code and codes.text hold any length (TEXT)

Revision ID: 0004_text_columns
Revises: 0002_intents

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision = "0004_text_columns"
down_revision = "0002_intents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=AutoString(length=64), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.alter_column("text", existing_type=AutoString(), type_=sa.Text(),
                              existing_nullable=True)


def downgrade() -> None:
    # Codes longer than 64 characters are cut: the old column cannot hold them.
    op.execute(sa.text("UPDATE codes SET code = substr(code, 1, 64) WHERE length(code) > 64"))
    with op.batch_alter_table("codes", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), type_=AutoString(),
                              existing_nullable=True)
        batch_op.alter_column("code", existing_type=sa.Text(), type_=AutoString(length=64),
                              existing_nullable=False)
