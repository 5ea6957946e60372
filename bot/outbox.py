"""The code outbox: codes are stored first, then sent, then marked delivered.

A code that could not be sent (a crash, a 429 given up, a blocked chat) stays undelivered
in the table and `deliver_pending` sends it on a later poller tick, so no code is lost and
none is sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from aiogram.exceptions import TelegramAPIError

from bot.card_publisher import CardPublisher
from bot.catalog import Catalog
from bot.notifier import ChatUnavailable, Notifier, is_permanent
from bot.texts import Translator
from bot.ui import cards
from storage.db import SessionFactory
from storage.models import Activation, Code
from storage.repo import ActivationRepo, CodeRepo, UserRepo

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, *, db: SessionFactory, catalog: Catalog, notifier: Notifier,
                 card_publisher: CardPublisher,
                 lock: Callable[[int], AbstractAsyncContextManager[object]]) -> None:
        self.db = db
        self.catalog = catalog
        self.notifier = notifier
        self.cards = card_publisher
        self.lock = lock  # the activation's lock (the money core's): one actor at a time
        self.code_delivered: Callable[[Code], None] = lambda code: None  # metrics hook

    async def store(self, a: Activation, code: str, text: str | None) -> Code | None:
        """Record a code unless it is already the last one known; None: nothing new."""
        async with self.db() as session:
            return await CodeRepo(session).record(a, code, text)

    async def deliver(self, a: Activation, code: Code) -> bool:
        """Send a stored code; a long SMS also goes whole as a file. A transient failure
        leaves the code for deliver_pending; a permanent one (Telegram refuses this very
        message) falls back to the bare code once and is never tried again."""
        async with self.db() as session:
            t, _ = await self.cards.context(UserRepo(session), a)
        text, full_sms = cards.code_message(a, code, t, self.catalog)
        if a.codes_chat_id is not None and a.codes_chat_id != a.chat_id:
            private = await self._deliver_private(a, code, text, t)
            if private is not None:
                return private
            a = await self._codes_to_group(a)
            text = f"{text}\n{t('group_buy.no_private_chat', name=await self.cards.buyer_name(a))}"
        elif (a.chat_id < 0 and a.card_message_id is not None and full_sms is None
              and self.notifier.busy(a.chat_id)):
            # A busy group (near ~20 messages a minute, or in a flood wait): the card,
            # edited with every code (bot/card_publisher.py), carries this one; a message
            # of its own would wait in the group's queue.
            async with self.db() as session:
                await CodeRepo(session).mark_delivered(code, a.card_message_id)
            self.code_delivered(code)
            log.info("code of activation %s folded into its card (busy group)", a.id)
            return True
        try:
            message = await self.notifier.send(
                a.chat_id, text, markup=cards.code_markup(code, t), reply_to=a.card_message_id,
                thread=a.message_thread_id)
        except ChatUnavailable:
            return False
        except TelegramAPIError as exc:
            if not is_permanent(exc):
                log.warning("code of activation %s not delivered yet: %s", a.id, exc)
                return False
            log.error("code message of activation %s refused (%s); sending the bare code",
                      a.id, exc)
            message_id = await self._deliver_bare(a, code, t)
            async with self.db() as session:
                await CodeRepo(session).mark_delivered(code, message_id)
            if message_id is not None:
                self.code_delivered(code)
            return message_id is not None
        async with self.db() as session:
            await CodeRepo(session).mark_delivered(code, message.message_id)
        self.code_delivered(code)
        if full_sms is not None:
            await self._send_sms_file(a, full_sms, t, message.message_id)
        return True

    async def _deliver_private(self, a: Activation, code: Code, text: str,
                               t: Translator) -> bool | None:
        """The code to the buyer's private chat (the group's rules say so). None: that chat
        cannot be reached (the buyer never started the bot, or blocked it): the group gets
        it instead. False: a transient failure, tried again later."""
        assert a.codes_chat_id is not None
        try:
            message = await self.notifier.send(a.codes_chat_id, text,
                                               markup=cards.code_markup(code, t))
        except ChatUnavailable:
            return None
        except TelegramAPIError as exc:
            if is_permanent(exc):
                return None
            log.warning("code of activation %s not delivered yet: %s", a.id, exc)
            return False
        async with self.db() as session:
            await CodeRepo(session).mark_delivered(code, message.message_id)
        self.code_delivered(code)
        return True

    async def _codes_to_group(self, a: Activation) -> Activation:
        """The buyer's private chat is out of reach: this and later codes go to the group
        (the card says so no more)."""
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is None:
                return a
            fresh.codes_chat_id = None
            return await repo.save(fresh)

    async def _deliver_bare(self, a: Activation, code: Code, t: Translator) -> int | None:
        try:
            message = await self.notifier.send(a.chat_id, cards.code_plain(code, t),
                                               reply_to=a.card_message_id,
                thread=a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.error("code of activation %s could not be delivered: %s", a.id, exc)
            return None
        return message.message_id

    async def _send_sms_file(self, a: Activation, full_sms: str, t: Translator,
                             reply_to: int) -> None:
        """The whole SMS, when the code message had to cut it. Sent after the code is
        marked delivered: a failure here must not send the code twice."""
        try:
            await self.notifier.send_document(
                a.chat_id, f"sms-{a.phone}.txt", full_sms.encode("utf-8"),
                caption=t("act.sms_file_caption"), reply_to=reply_to,
                thread=a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("full SMS of activation %s not sent: %s", a.id, exc)

    async def deliver_pending(self) -> int:
        """Send codes stored but not delivered (after a crash, a 429 give-up, a 403)."""
        async with self.db() as session:
            pending = await CodeRepo(session).undelivered()
        sent = 0
        for code in pending:
            async with self.lock(code.activation_id):
                async with self.db() as session:
                    a = await ActivationRepo(session).get(code.activation_id)
                    fresh = await session.get(Code, code.id)
                if a is None or fresh is None or fresh.delivered:
                    continue
                if a.chat_id in self.notifier.unreachable:
                    continue
                sent += await self.deliver(a, fresh)
        return sent
