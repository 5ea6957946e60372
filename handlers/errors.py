"""Last resort: an unexpected failure still gets a clear answer in the chat."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.services.accounts import problem_of
from bot.services.dto import Problem
from bot.texts import Translator
from handlers.screens import problem_text

log = logging.getLogger(__name__)

# Failures the person can act on (set the key again, try later): explained, not logged.
EXPECTED = {Problem.KEY_UNREADABLE, Problem.BAD_KEY, Problem.DOWN}


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router


async def on_error(event: ErrorEvent, **data: Any) -> bool:
    exc = event.exception
    problem = problem_of(exc)
    expected = problem is not None and problem.kind in EXPECTED
    if not expected:
        log.exception("unhandled error in update %s", event.update.update_id, exc_info=exc)
    t = data.get("t")
    if not isinstance(t, Translator):
        t = Translator(None)
    text = problem_text(problem, t) if problem is not None and expected else t("common.error")
    update = event.update
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    return True
