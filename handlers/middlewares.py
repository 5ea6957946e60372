"""Per-update context (who is writing, in which language, whose key pays here) and the
answer every button press gets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Chat, TelegramObject, User
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

from bot.notifier import Notifier
from bot.services.accounts import SCREEN_BUDGET, AccountService, read_budget
from bot.texts import Translator

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ContextMiddleware(BaseMiddleware):
    """Outer update middleware. Handlers receive by name: db_user (UserInfo, None for bots
    and channels), t (Translator in the user's language), owner_id (whose key pays here:
    the user in a private chat, the group in a group)."""

    def __init__(self, accounts: AccountService, notifier: Notifier, *,
                 screen_budget: float | None = SCREEN_BUDGET) -> None:
        self.accounts = accounts
        self.notifier = notifier
        self.screen_budget = screen_budget  # see bot.koala.client.read_budget
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def drain(self, timeout: float) -> None:
        """Wait for updates still being handled, so shutdown doesn't cut them off midway
        (the dispatcher stops polling without waiting for them)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            # Someone is looking at the chat: provider reads must answer soon or give up.
            with read_budget(self.screen_budget):
                return await self._handle(handler, event, data)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _handle(self, handler: Handler, event: TelegramObject,
                      data: dict[str, Any]) -> Any:
        tg_user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if chat is not None:
            # A chat that writes to us has unblocked the bot: send to it again.
            self.notifier.reachable_again(chat.id)
        if tg_user is not None and not tg_user.is_bot:
            db_user = await self.accounts.user(tg_user.id, tg_user.language_code)
            data["db_user"] = db_user
            data["t"] = Translator(db_user.language)
        else:
            data["db_user"] = None
            data["t"] = Translator(None)
        if chat is not None and chat.type != "private":
            data["owner_id"] = chat.id
        elif tg_user is not None:
            data["owner_id"] = tg_user.id
        else:
            data["owner_id"] = 0
        return await handler(event, data)


class CallbackAnswers(CallbackAnswerMiddleware):
    """aiogram's CallbackAnswerMiddleware, except that a handler that fails leaves the
    answer to the errors router, which explains the failure (aiogram's would answer
    first, empty, and the explanation could no longer be shown)."""

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(
            properties=get_flag(data, "callback_answer"))
        if not answer.disabled and answer.answered:  # pre: answered as the handler starts
            return await self._alongside(handler, event, data, self.answer(event, answer))
        result = await handler(event, data)
        if not answer.disabled and not answer.answered:
            await self.answer(event, answer)
        return result

    @staticmethod
    async def _alongside(handler: Handler, event: CallbackQuery, data: dict[str, Any],
                         answer: Awaitable[Any]) -> Any:
        """Run the handler while the answer is on its way: the spinner stops as soon as
        before, and the next screen does not wait for a round trip that tells it nothing.
        A failed answer fails the update as it did; a failed handler is what the errors
        router explains, so its error is the one raised."""
        answering = asyncio.ensure_future(answer)
        try:
            result = await handler(event, data)
        except Exception:
            with suppress(Exception):
                await answering
            raise
        except BaseException:
            answering.cancel()
            raise
        await answering
        return result
