"""A code message sent once, even when an instance dies in the middle of sending it.

The outbox stores a code, sends it, then marks it delivered (bot/outbox.py). An instance
killed after Telegram took the message but before the mark was written leaves the code
"undelivered", and whoever delivers pending codes next would send it again. Telegram
offers no way to ask whether a message was sent, so one of two errors must be chosen:
a possible duplicate, or a possible missing message. Here the second is chosen, because
nothing is lost with it: before the message, the activation's card is edited to show
the code (ActivationCore._record_and_deliver), so the code is in the chat either way.

How: a `code_sends` row is written before the send and removed after it, whatever the
send did. The send runs under the activation's lock, so a row found by the next sender
(which then holds the lock) can only have been left by an instance that died mid-send:
that code is marked delivered without a message, and its card is edited once more so the
code shows there even if the dead instance had not got that far.

Used with several instances (PostgreSQL); one process on SQLite keeps the plain outbox.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.coordination.identity import instance_id
from bot.outbox import Outbox
from storage.models import Activation, Code
from storage.repo import CodeRepo
from storage.repos.sends import CodeSendRepo

log = logging.getLogger(__name__)


class OnceOutbox(Outbox):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.me = instance_id()

    async def deliver(self, a: Activation, code: Code) -> bool:
        assert code.id is not None
        async with self.db() as session:
            cut_short = await CodeSendRepo(session).begun(code.id)
            if cut_short is not None:
                await CodeRepo(session).mark_delivered(code, None)
            else:
                await CodeSendRepo(session).begin(code.id, self.me)
        if cut_short is not None:
            log.warning("code of activation %s: its sending by %s was cut short; not sent "
                        "again (the card shows it)", a.id, cut_short.holder)
            async with self.db() as session:
                await CodeSendRepo(session).end(code.id)
            await self.cards.refresh_card(a)
            return True
        try:
            return await super().deliver(a, code)
        finally:
            async with self.db() as session:
                await CodeSendRepo(session).end(code.id)
