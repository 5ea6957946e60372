"""Buy presses that went ahead (BuyClaim): the idempotency record of a purchase."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import BuyClaim, utcnow

CLAIM_HELD = "held"
CLAIM_DONE = "done"


class BuyClaimRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, chat_id: int, message_id: int, data: str, *,
                    stale_before: datetime) -> str | None:
        """Record this press; None when it is the first (it may buy). Otherwise the
        state of the press recorded before it: held (still buying) or done (bought). A
        held record older than `stale_before` (its instance died mid-purchase) is taken
        over: the purchase intents still stop a second purchase if the first went out."""
        self.session.add(BuyClaim(chat_id=chat_id, message_id=message_id, data=data[:64]))
        try:
            await self.session.commit()
            return None
        except IntegrityError:
            await self.session.rollback()
        where = (col(BuyClaim.chat_id) == chat_id, col(BuyClaim.message_id) == message_id,
                 col(BuyClaim.data) == data[:64])
        taken = await self.session.exec(
            update(BuyClaim).where(*where, col(BuyClaim.state) == CLAIM_HELD,
                                   col(BuyClaim.claimed_at) < stale_before)
            .values(claimed_at=utcnow()))
        await self.session.commit()
        if taken.rowcount:
            return None
        row = (await self.session.exec(select(BuyClaim).where(*where))).first()
        return row.state if row is not None else CLAIM_HELD

    async def settle(self, chat_id: int, message_id: int, *, bought: bool) -> None:
        """Bought (or maybe bought): the record stays, later presses are refused. Certainly
        nothing bought: it goes, so the same button may try again."""
        where = (col(BuyClaim.chat_id) == chat_id, col(BuyClaim.message_id) == message_id,
                 col(BuyClaim.state) == CLAIM_HELD)
        statement = (update(BuyClaim).where(*where).values(state=CLAIM_DONE) if bought
                     else delete(BuyClaim).where(*where))
        await self.session.exec(statement)
        await self.session.commit()
