"""Activation cards in the chat: post, edit to the current state, retire old copies.

One number has one live card; the money core (bot/activations.py) asks this part to show
every change, and bot/card_refresh.py asks it when the clock alone makes a card wrong.
Rendering itself is pure (bot/ui/cards.py); this part adds the database and Telegram.
Every edit and post runs in the chat's sender (bot/chat_queue.py), behind the chat's
codes, and renders the activation as it is when its turn comes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import TypeVar

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.chat_queue import BACKGROUND, CARD, CURRENT
from bot.money import money
from bot.notifier import ChatUnavailable, Notifier
from bot.texts import Translator
from bot.ui import cards
from storage.db import SessionFactory
from storage.models import Activation, Code, User
from storage.repo import ActivationRepo, CodeRepo, UserRepo

log = logging.getLogger(__name__)
T = TypeVar("T")


class CardPublisher:
    def __init__(self, *, db: SessionFactory, catalog: Catalog, notifier: Notifier,
                 clock: Callable[[], datetime]) -> None:
        self.db = db
        self.catalog = catalog
        self.notifier = notifier
        self.clock = clock

    async def context(self, session_users: UserRepo, a: Activation) -> tuple[Translator, User]:
        """The buyer's language and settings (time zone) for what is shown about `a`."""
        user = await session_users.get_or_create(a.buyer_id)
        return Translator(user.language), user

    async def render(self, a: Activation, *,
                     note: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
        """The card as of now (time left is relative: bot/card_refresh.py keeps it current);
        `note` (a text key) adds a last line instead of a message of its own."""
        assert a.id is not None
        async with self.db() as session:
            t, user = await self.context(UserRepo(session), a)
            codes = await CodeRepo(session).for_activation(a.id)
        return await self._compose(a, t, user, codes, note)

    async def buyer_name(self, a: Activation) -> str:
        return await self._buyer_name(a)

    async def _buyer_name(self, a: Activation) -> str:
        try:
            member = await self.notifier.bot.get_chat_member(a.chat_id, a.buyer_id)
        except TelegramAPIError:
            return str(a.buyer_id)
        return member.user.full_name

    # --- how a caller waits --------------------------------------------------------

    async def _in_chat(self, chat_id: int, run: Callable[[], Awaitable[T]], *,
                       key: Hashable | None = None) -> T | None:
        """Run a job in the chat's sender. Background work (the poller: BACKGROUND) only
        queues it; a handler waits for it, so what it shows is there when it answers; a
        job of the same chat runs it at once (it would otherwise wait for itself)."""
        current = CURRENT.get()
        if current is not None and current.chat_id == chat_id:
            return await run()
        if BACKGROUND.get() or current is not None:
            self.notifier.post(chat_id, run, priority=CARD, key=key)
            return None
        result: T = await self.notifier.queues.call(chat_id, run, priority=CARD, key=key)
        return result

    async def _current(self, activation_id: int) -> tuple[Activation, Translator, User,
                                                             list[Code]] | None:
        """The activation as it is now, with what its card shows: one session."""
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
            if a is None:
                return None
            t, user = await self.context(UserRepo(session), a)
            codes = await CodeRepo(session).for_activation(activation_id)
        return a, t, user, codes

    async def _compose(self, a: Activation, t: Translator, user: User, codes: list[Code],
                       note: str | None) -> tuple[str, InlineKeyboardMarkup]:
        buyer = None if a.chat_id > 0 else await self._buyer_name(a)
        now = self.clock()
        text = cards.card_text(a, codes, t, self.catalog, now, cards.chosen_tz(user),
                               buyer=buyer)
        if a.codes_chat_id is not None and buyer is not None:
            text += "\n" + t("group_buy.codes_in_private", name=buyer)
        if note is not None:
            text += "\n" + t(note)
        return text, cards.card_markup(a, t, now)

    # --- posting and editing ---------------------------------------------------------

    async def send_card(self, a: Activation, *, reply_to: int | None = None,
                        note: str | None = None) -> Activation:
        """Post the activation's card and remember its message id (waits for the chat).

        One number has one live card: an older copy is turned into a pointer without
        buttons, so no button anywhere acts on an outdated state."""
        current = CURRENT.get()
        if current is not None and current.chat_id == a.chat_id:
            return await self._send_card_now(a, reply_to=reply_to, note=note)
        sent: Activation = await self.notifier.queues.call(
            a.chat_id, lambda: self._send_card_now(a, reply_to=reply_to, note=note),
            priority=CARD)
        return sent

    async def _send_card_now(self, a: Activation, *, reply_to: int | None = None,
                             note: str | None = None) -> Activation:
        rendered_at = self.clock()
        text, markup = await self.render(a, note=note)
        try:
            message = await self.notifier.send(a.chat_id, text, markup=markup, reply_to=reply_to,
                                                thread=a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("card of activation %s not sent: %s", a.id, exc)
            return a
        # Only the card fields change: `a` may be stale, since the poller can record a
        # code and move the state while the card is being sent.
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is None:
                return a
            old = fresh.card_message_id
            fresh.card_message_id = message.message_id
            fresh.card_refreshed_at = rendered_at
            fresh = await repo.save(fresh)
        if old is not None and old != message.message_id:
            self.notifier.post(a.chat_id, lambda: self._retire_card(fresh, old))
        return fresh

    async def _retire_card(self, a: Activation, message_id: int) -> None:
        async with self.db() as session:
            t, _ = await self.context(UserRepo(session), a)
        try:
            await self.notifier.edit(a.chat_id, message_id,
                                     cards.moved_text(a, t, self.catalog), markup=None)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("old card of activation %s not retired: %s", a.id, exc)

    async def refresh_card(self, a: Activation, *, note: str | None = None) -> None:
        """Edit the card to the activation's state (as it is when the edit goes); post a
        new one if it is gone. Edits waiting for the chat are merged into one."""
        await self._in_chat(a.chat_id, lambda: self.edit_now(a.id or 0, note=note),
                            key=("card", a.id))

    def refresh_later(self, a: Activation, *, note: str | None = None) -> None:
        """refresh_card, queued behind the chat's codes and not waited for."""
        self.notifier.post(a.chat_id, lambda: self.edit_now(a.id or 0, note=note),
                           priority=CARD, key=("card", a.id))

    async def edit_now(self, activation_id: int, *, note: str | None = None) -> bool:
        """The card edit itself (run by the chat's sender); False when it failed."""
        current = await self._current(activation_id)
        if current is None:
            return False
        a, t, user, codes = current
        if a.card_message_id is None:
            return (await self._send_card_now(a, note=note)).card_message_id is not None
        text, markup = await self._compose(a, t, user, codes, note)
        try:
            edited = await self.notifier.edit(a.chat_id, a.card_message_id, text, markup=markup)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("card of activation %s not updated: %s", a.id, exc)
            if isinstance(exc, ChatUnavailable | TelegramNetworkError | TelegramServerError
                          | TelegramRetryAfter):
                # Worth another try once the chat can be reached (bot/card_refresh.py);
                # otherwise the card would keep buttons for a state that is gone.
                await self._mark_card_stale(a)
            return False
        if not edited:
            return (await self._send_card_now(a, note=note)).card_message_id is not None
        return True

    async def _mark_card_stale(self, a: Activation) -> None:
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is not None:
                fresh.card_refreshed_at = cards.STALE
                await repo.save(fresh)

    async def notice(self, a: Activation, key: str) -> None:
        """A message of its own about `a` (a text key), sent in reply to its card."""
        await self._in_chat(a.chat_id, lambda: self._notice_now(a, key))

    async def _notice_now(self, a: Activation, key: str) -> None:
        async with self.db() as session:
            t, _ = await self.context(UserRepo(session), a)
        text = t(key, service=self.catalog.service_name(a.service, t.lang),
                 phone=cards.phone_display(a.phone), price=money(a.cost, a.currency))
        if (a.chat_id < 0 and a.card_message_id is not None
                and self.notifier.busy(a.chat_id) and await self._fold(a, text)):
            return
        try:
            await self.notifier.send(a.chat_id, text, reply_to=a.card_message_id,
                                     thread=a.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("notice for activation %s not sent: %s", a.id, exc)

    async def _fold(self, a: Activation, text: str) -> bool:
        """A busy group (near Telegram's ~20 messages a minute): the notice becomes the
        card's last paragraph instead of a message that would wait its turn. Notices come
        with a final state, so no later edit of the card wipes it."""
        assert a.card_message_id is not None
        card, markup = await self.render(a)
        try:
            await self.notifier.edit(a.chat_id, a.card_message_id, f"{card}\n\n{text}",
                                     markup=markup)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("notice for activation %s not folded into its card: %s", a.id, exc)
            return False
        log.info("notice for activation %s folded into its card (busy group)", a.id)
        return True
