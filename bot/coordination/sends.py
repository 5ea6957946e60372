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
already delivered does nothing; one that finds a row does not send: either the instance
that wrote it died mid-send, or another instance is sending it right now (its pending
round found the code while this one had it queued); the code is marked delivered without
a message and its card edited, so it shows in the chat whichever it was. Two senders
starting at the same instant are told apart by the row's primary key, and one whose first
look came just before another's send ended looks again once its own row is in.

Used with several instances (PostgreSQL); one process on SQLite keeps the plain outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.coordination.identity import instance_id
from bot.outbox import Outbox, Recorded
from storage.models import Code
from storage.repo import CodeRepo
from storage.repos.sends import CodeSendRepo

log = logging.getLogger(__name__)


class OnceOutbox(Outbox):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.me = instance_id()

    async def _send(self, rec: Recorded, target: int, text: str,
                    full_sms: str | None) -> None:
        code = rec.code
        assert code.id is not None
        began = False
        async with self.db() as session:
            fresh = await session.get(Code, code.id)
            if fresh is None or fresh.delivered:
                self._in_flight.discard(code.id)
                self._done.add(code.id)
                return
            cut_short = await CodeSendRepo(session).begun(code.id)
            if cut_short is None:
                try:
                    await CodeSendRepo(session).begin(code.id, self.me)
                    began = True
                except IntegrityError:  # another instance began this very moment
                    await session.rollback()
        if not began:
            log.warning("code of activation %s: another send of it began (%s); not sent "
                        "again (the card shows it)", rec.activation.id,
                        cut_short.holder if cut_short is not None else "just now")
            async with self.db() as session:
                await CodeRepo(session).mark_delivered(code, None)
            if cut_short is not None:
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
