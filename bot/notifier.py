"""Sending to chats from background work: flood control delays, a blocked chat is skipped.

Handlers answer through aiogram directly; the poller and the activation manager go through
here so that a 429 never drops a code and a 403 never stops the money logic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
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

from bot.limits import CAPTION_LIMIT, MESSAGE_LIMIT, fit_html

log = logging.getLogger(__name__)
T = TypeVar("T")


# Telegram lets a bot post about 20 messages a minute in one group; past this many in the
# last minute a group counts as busy, and what can be folded into an edit is (bot/outbox.py).
GROUP_SOFT_LIMIT = 15
GROUP_WINDOW = 60.0


class ChatUnavailable(Exception):
    """The chat blocked the bot, was deleted, or the bot was removed from it."""


def is_permanent(exc: Exception) -> bool:
    """True when sending the same request again would be refused the same way (a 400:
    too long, bad markup...), as opposed to a flood wait, a network or server fault."""
    return isinstance(exc, TelegramBadRequest)


class Notifier:
    def __init__(self, bot: Bot, *, max_wait: float = 600.0, attempts: int = 8) -> None:
        self.bot = bot
        self.max_wait = max_wait
        self.attempts = attempts
        self.unreachable: set[int] = set()  # chats that answered 403 since start
        self._locks: dict[int, asyncio.Lock] = {}
        self._group_sends: dict[int, deque[float]] = {}  # group chat id -> send times
        self._flooded_until: dict[int, float] = {}  # chat id -> end of its 429 wait
        self.monotonic = time.monotonic

    def busy(self, chat_id: int) -> bool:
        """A group near its messages-per-minute limit, or any chat in a flood wait: a new
        message there would wait, so callers fold what they can into an edit."""
        now = self.monotonic()
        if self._flooded_until.get(chat_id, 0.0) > now:
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

    def _lock(self, chat_id: int) -> asyncio.Lock:
        # Messages to one chat keep their order; other chats are not held up.
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = self._locks[chat_id] = asyncio.Lock()
        return lock

    async def _deliver(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        if chat_id in self.unreachable:
            raise ChatUnavailable(str(chat_id))
        waited = 0.0
        async with self._lock(chat_id):
            for attempt in range(self.attempts):
                try:
                    return await call()
                except TelegramRetryAfter as exc:
                    delay = float(exc.retry_after) + 0.1
                    waited += delay
                    if waited > self.max_wait:
                        raise
                    self._flooded_until[chat_id] = self.monotonic() + delay
                    log.info("flood control in chat %s: waiting %.1fs", chat_id, delay)
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
                    if attempt == self.attempts - 1:
                        raise
                    await asyncio.sleep(min(2.0**attempt, 30.0))
            raise TelegramNetworkError(method=None, message="gave up")  # type: ignore[arg-type]

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
            message_thread_id=thread))
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
            reply_parameters=reply, message_thread_id=thread))
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
