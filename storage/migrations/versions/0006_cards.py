"""activation cards: when the card was last edited (the time-left refresh schedule)

Revision ID: 0006_cards
Revises: 0005_currency

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import UTCDateTime

revision = "0006_cards"
down_revision = "0005_currency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_refreshed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activations", schema=None) as batch_op:
        batch_op.drop_column("card_refreshed_at")
