"""Sending to chats from background work: flood control delays, a blocked chat is skipped.

Handlers answer through aiogram directly; the poller and the activation manager go through
here so that a 429 never drops a code and a 403 never stops the money logic.
"""

from __future__ import annotations

import asyncio
import logging
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
        return await self._deliver(chat_id, lambda: self.bot.send_message(
            chat_id, text, reply_markup=markup, reply_parameters=reply,
            message_thread_id=thread))

    async def send_document(self, chat_id: int, filename: str, data: bytes, *,
                            caption: str = "", reply_to: int | None = None,
                            thread: int | None = None) -> Message:
        reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                 if reply_to else None)
        document = BufferedInputFile(data, filename=filename)
        return await self._deliver(chat_id, lambda: self.bot.send_document(
            chat_id, document, caption=fit_html(caption, CAPTION_LIMIT) or None,
            reply_parameters=reply, message_thread_id=thread))

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
