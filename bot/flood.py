"""Telegram's flood control delays a request, it must not lose it.

A session middleware, so every call the bot makes (handler answers included) waits out a
short 429 and is sent again. Background sends go through a chat's sender
(bot/chat_queue.py), which sets PACED: there the 429 goes straight back to Notifier, which
holds that chat's pace (for every instance) and waits it out in that chat's sender only.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

log = logging.getLogger(__name__)

PACED: ContextVar[bool] = ContextVar("paced_send", default=False)


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, *, max_wait: float = 30.0, attempts: int = 3) -> None:
        self.max_wait = max_wait  # longer waits are left to the caller (or given up)
        self.attempts = attempts

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        if PACED.get():
            return await make_request(bot, method)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.info("flood control on %s: retrying in %ss", type(method).__name__,
                         exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")
