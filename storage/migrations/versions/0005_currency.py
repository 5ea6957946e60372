"""accounts remember their currency

Revision ID: 0005_currency
Revises: 0001

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_currency"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("currency", sa.Integer(), nullable=True))
    # Accounts that already bought know it from their latest purchase that named one.
    op.execute(
        "UPDATE accounts SET currency = (SELECT a.currency FROM activations a"
        " WHERE a.account_id = accounts.id AND a.currency IS NOT NULL"
        " ORDER BY a.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("currency")
