"""Sending to chats from background work: paced, flood control delays, a blocked chat is
skipped.

Handlers answer through aiogram directly (callback answers are never paced); the poller
and the activation manager go through here: every request runs in its chat's sender
(bot/chat_queue.py), paced to Telegram's limits (bot/pacing.py), so a 429 never drops a
code, a 403 never stops the money logic, and neither holds anybody else up. `post` queues
work and returns; `send`/`edit`/`send_document` called from outside a sender wait for
their turn in the chat and return Telegram's answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message, ReplyParameters

from bot.chat_queue import CARD, CURRENT, ChatQueues
from bot.chat_queue import ChatUnavailable as ChatUnavailable  # re-exported
from bot.limits import CAPTION_LIMIT, MESSAGE_LIMIT, fit_html
from bot.pacing import MemoryPacer, Pacer

log = logging.getLogger(__name__)
T = TypeVar("T")


# Telegram lets a bot post about 20 messages a minute in one group; past this many in the
# last minute a group counts as busy, and what can be folded into an edit is (bot/outbox.py).
GROUP_SOFT_LIMIT = 15
GROUP_WINDOW = 60.0
BUSY_WAIT = 2.0  # a group whose next message would wait longer than this is busy
BUSY_QUEUE = 5  # ... or that has this many jobs waiting


def is_permanent(exc: Exception) -> bool:
    """True when sending the same request again would be refused the same way (a 400:
    too long, bad markup...), as opposed to a flood wait, a network or server fault."""
    return isinstance(exc, TelegramBadRequest)


class Notifier:
    def __init__(self, bot: Bot, *, pacer: Pacer | None = None, max_wait: float = 600.0,
                 attempts: int = 8) -> None:
        self.bot = bot
        self.pacer: Pacer = pacer or MemoryPacer()
        self.queues = ChatQueues(self.pacer)
        self.max_wait = max_wait  # 429 waits a card edit or notice sits out before failing
        self.attempts = attempts
        self.unreachable: set[int] = set()  # chats that answered 403 since start
        self._group_sends: dict[int, deque[float]] = {}  # group chat id -> send times
        self._flooded_until: dict[int, float] = {}  # chat id -> end of its 429 wait
        self.monotonic = time.monotonic

    def busy(self, chat_id: int) -> bool:
        """A group near its messages-per-minute limit, or any chat in a flood wait: a new
        message there would wait, so callers fold what they can into an edit."""
        now = self.monotonic()
        if self._flooded_until.get(chat_id, 0.0) > now:
            return True
        if chat_id < 0 and self.pacer.peek(chat_id) > BUSY_WAIT:
            return True  # the group used its burst: a new message would wait its turn
        if chat_id < 0 and self.queues.pending(chat_id) >= BUSY_QUEUE:
            return True
        sends = self._group_sends.get(chat_id)
        if not sends:
            return False
        while sends and sends[0] <= now - GROUP_WINDOW:
            sends.popleft()
        return len(sends) >= GROUP_SOFT_LIMIT

    def _count_send(self, chat_id: int) -> None:
        if chat_id < 0:  # groups: the per-chat limit that matters
            sends = self._group_sends.setdefault(chat_id, deque())
            sends.append(self.monotonic())
            while len(sends) > 4 * GROUP_SOFT_LIMIT:
                sends.popleft()

    # --- queueing ----------------------------------------------------------------------

    def post(self, chat_id: int, run: Callable[[], Awaitable[object]], *,
             priority: int = CARD, key: Hashable | None = None) -> None:
        """Queue work for the chat's sender (bot/chat_queue.py) and return at once."""
        self.queues.post(chat_id, run, priority=priority, key=key)

    async def close(self) -> None:
        await self.queues.close()
        await self.pacer.close()

    async def _deliver(self, chat_id: int, call: Callable[[], Awaitable[T]], *,
                       message: bool = False) -> T:
        """One request to the chat: inside its sender, paced here; from anywhere else,
        queued behind what the chat already has, and waited for."""
        sending = CURRENT.get()
        if sending is None or sending.chat_id != chat_id:
            result: T = await self.queues.call(
                chat_id, lambda: self._deliver(chat_id, call, message=message), priority=CARD)
            return result
        if chat_id in self.unreachable:
            raise ChatUnavailable(str(chat_id))
        waited = 0.0
        failures = 0
        while True:
            if sending.prepaid:
                sending.prepaid = False
            else:
                await self.pacer.acquire(chat_id, urgent=sending.urgent)
            if message:
                await self.pacer.acquire_message(chat_id)  # a group's 20 a minute
            try:
                return await call()
            except TelegramRetryAfter as exc:
                # Only this chat's sender sleeps; a code is never given up (it waits as
                # long as Telegram says), anything else after max_wait.
                delay = float(exc.retry_after) + 0.1
                waited += delay
                if waited > self.max_wait and not sending.urgent:
                    raise
                self._flooded_until[chat_id] = self.monotonic() + delay
                log.info("flood control in chat %s: waiting %.1fs", chat_id, delay)
                await self.pacer.hold(chat_id, delay)
                await asyncio.sleep(delay)
            except TelegramForbiddenError:
                self.unreachable.add(chat_id)
                raise ChatUnavailable(str(chat_id)) from None
            except TelegramBadRequest as exc:
                if "chat not found" in exc.message.lower():
                    self.unreachable.add(chat_id)
                    raise ChatUnavailable(str(chat_id)) from None
                raise
            except (TelegramNetworkError, TelegramServerError):
                failures += 1
                if failures >= self.attempts:
                    raise
                await asyncio.sleep(min(2.0 ** (failures - 1), 30.0))

    def reachable_again(self, chat_id: int) -> None:
        """The chat wrote to us again, so it unblocked the bot."""
        self.unreachable.discard(chat_id)

    async def send(self, chat_id: int, text: str, *,
                   markup: InlineKeyboardMarkup | None = None,
                   reply_to: int | None = None, thread: int | None = None) -> Message:
        """`thread`: the forum topic to post in (None: General / no topics)."""
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to else None)
        text = fit_html(text, MESSAGE_LIMIT)  # a longer one is refused, not shortened
        sent = await self._deliver(chat_id, lambda: self.bot.send_message(
            chat_id, text, reply_markup=markup, reply_parameters=reply,
            message_thread_id=thread), message=True)
        self._count_send(chat_id)
        return sent

    async def send_document(self, chat_id: int, filename: str, data: bytes, *,
                            caption: str = "", reply_to: int | None = None,
                            thread: int | None = None) -> Message:
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to else None)
        document = BufferedInputFile(data, filename=filename)
        sent = await self._deliver(chat_id, lambda: self.bot.send_document(
            chat_id, document, caption=fit_html(caption, CAPTION_LIMIT) or None,
            reply_parameters=reply, message_thread_id=thread), message=True)
        self._count_send(chat_id)
        return sent

    async def edit(self, chat_id: int, message_id: int, text: str, *,
                   markup: InlineKeyboardMarkup | None = None) -> bool:
        """Edit a message; False when it no longer exists (or did not change)."""
        text = fit_html(text, MESSAGE_LIMIT)
        try:
            await self._deliver(chat_id, lambda: self.bot.edit_message_text(
                text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup))
        except TelegramNotFound:
            return False
        except TelegramBadRequest as exc:
            message = exc.message.lower()
            if "not modified" in message:
                return True
            if "not found" in message or "can't be edited" in message:
                return False
            raise
        return True
