"""Per-update context: one DB session, the repositories, the user's row and translator."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, User

from bot.koala.client import SCREEN_BUDGET, read_budget
from bot.notifier import Notifier
from bot.texts import Translator
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.repo import AccountRepo, ActivationRepo, CodeRepo, UserRepo

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class ContextMiddleware(BaseMiddleware):
    """Outer update middleware. Handlers receive by name: session, users, accounts,
    activations, codes, db_user, t (Translator), owner_id (whose key pays here:
    the user in a private chat, the group in a group)."""

    def __init__(self, db: SessionFactory, keybox: KeyBox, notifier: Notifier, *,
                 screen_budget: float | None = SCREEN_BUDGET) -> None:
        self.db = db
        self.keybox = keybox
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
        async with self.db() as session:
            users = UserRepo(session)
            data.update(
                session=session,
                users=users,
                accounts=AccountRepo(session, self.keybox),
                activations=ActivationRepo(session),
                codes=CodeRepo(session),
            )
            tg_user: User | None = data.get("event_from_user")
            chat: Chat | None = data.get("event_chat")
            if chat is not None:
                # A chat that writes to us has unblocked the bot: send to it again.
                self.notifier.reachable_again(chat.id)
            if tg_user is not None and not tg_user.is_bot:
                db_user = await users.get_or_create(tg_user.id, tg_user.language_code)
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
