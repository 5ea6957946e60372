"""Last resort: an unexpected failure still gets a clear answer in the chat."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.koala import BadKey, TransientError
from bot.texts import Translator
from storage.crypto import KeyDecryptError

log = logging.getLogger(__name__)
router = Router(name="errors")


def _explain(exc: Exception, t: Translator) -> str:
    if isinstance(exc, KeyDecryptError):
        return t("common.key_unreadable")
    if isinstance(exc, BadKey):
        return t("common.bad_key")
    if isinstance(exc, TransientError):
        return t("common.provider_down")
    return t("common.error")


@router.errors()
async def on_error(event: ErrorEvent, **data: Any) -> bool:
    exc = event.exception
    expected = isinstance(exc, KeyDecryptError | BadKey | TransientError)
    if not expected:
        log.exception("unhandled error in update %s", event.update.update_id, exc_info=exc)
    t = data.get("t")
    if not isinstance(t, Translator):
        t = Translator(None)
    text = _explain(exc, t)
    update = event.update
    with suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    return True
