"""A code message sent once, even when an instance dies in the middle of sending it.

The outbox records a code, queues it in its chat's sender, sends it, then marks it
delivered (bot/outbox.py). An instance killed after Telegram took the message but before
the mark was written leaves the code "undelivered", and whoever delivers pending codes
next would send it again. Telegram offers no way to ask whether a message was sent, so
one of two errors must be chosen: a possible duplicate, or a possible missing message.
Here the second is chosen, because nothing is lost with it: the activation's card is
edited to show the code, so the code is in the chat either way.

How: a `code_sends` row is written right before the send (in the chat's sender, after
its pace) and removed after it, whatever the send did. A sender that finds the code
already delivered does nothing. One that finds a row asks whether its writer still beats
(its `instance:` heartbeat lease): if so, that instance is sending it right now (both
found it pending) and this one leaves it alone; if not, the writer died mid-send, and
the code is marked delivered without a message and its card edited, so it shows in the
chat either way. Two senders starting at the same instant are told apart by the row's
primary key, and one whose first look came just before another's send ended looks again
once its own row is in (only a sender marks a code delivered while its writer lives).

Used with several instances (PostgreSQL); one process on SQLite keeps the plain outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.coordination.identity import instance_id
from bot.outbox import Outbox, Recorded
from storage.models import Code
from storage.repo import CodeRepo
from storage.repos.leases import INSTANCE, LeaseRepo
from storage.repos.sends import CodeSendRepo

log = logging.getLogger(__name__)


class OnceOutbox(Outbox):
    # Each code is claimed on its own before it is sent (CodeSendRepo); one message per
    # code keeps that simple. Merging them would need every code of a message claimed.
    merges = False

    def __init__(self, *, me: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The name this instance's heartbeat lease carries: a send signed with any other
        # name looks, to the others, like one cut short by a dead instance (its code was
        # then marked delivered unsent whenever another instance looked mid-send).
        self.me = me or instance_id()

    async def _send(self, rec: Recorded, target: int, text: str,
                    full_sms: str | None) -> None:
        code = rec.code
        assert code.id is not None
        began, busy = False, None
        async with self.db() as session:
            fresh = await session.get(Code, code.id)
            if fresh is None or fresh.delivered:
                self._in_flight.discard(code.id)
                self._done.add(code.id)
                return
            sends = CodeSendRepo(session)
            cut_short = await sends.begun(code.id)
            if cut_short is not None and await self._alive(session, cut_short.holder):
                busy = cut_short.holder  # a live instance is sending it right now
                cut_short = None
            elif cut_short is None:
                try:
                    await sends.begin(code.id, self.me)
                    began = True
                except IntegrityError:  # another instance began this very moment
                    await session.rollback()
                    busy = "just now"
        if busy is not None:
            # Its sender marks it delivered; if that send fails, the next pending round
            # finds the code again. Marking it here could leave the chat without it.
            log.info("code of activation %s: being sent by another instance (%s)",
                     rec.activation.id, busy)
            self._in_flight.discard(code.id)
            return
        if not began:
            assert cut_short is not None
            log.warning("code of activation %s: a send of it by %s was cut short; not sent "
                        "again (the card shows it)", rec.activation.id, cut_short.holder)
            async with self.db() as session:
                await CodeRepo(session).mark_delivered(code, None)
            async with self.db() as session:
                await CodeSendRepo(session).end(code.id)  # its sender is gone
            self._in_flight.discard(code.id)
            self._done.add(code.id)
            self.cards.refresh_later(rec.activation)
            return
        # The first read may predate another sender's finish: it marks the code delivered
        # before removing its row, so with our row in, a fresh read tells the truth.
        async with self.db() as session:
            again = await session.get(Code, code.id, populate_existing=True)
            if again is None or again.delivered:
                await CodeSendRepo(session).end(code.id)
                self._in_flight.discard(code.id)
                self._done.add(code.id)
                return
        try:
            await super()._send(rec, target, text, full_sms)
        finally:
            async with self.db() as session:
                await CodeSendRepo(session).end(code.id)

    async def _alive(self, session: AsyncSession, holder: str) -> bool:
        """Whether the instance that began a send still beats (its heartbeat lease)."""
        if holder == self.me:
            return True
        leases = LeaseRepo(await session.connection())
        return await leases.holder(INSTANCE + holder) is not None
