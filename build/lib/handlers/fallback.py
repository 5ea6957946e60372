"""Last router: answers button presses nobody else understood (old or forged data)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.texts import Translator

router = Router(name="fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery, t: Translator) -> None:
    # Unanswered, the client would show a spinner until it times out.
    await query.answer(t("common.stale"), show_alert=True)
