"""Last router: answers button presses and messages nobody else understood."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message

from bot.texts import Translator

router = Router(name="fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery, t: Translator) -> None:
    # Unanswered, the client would show a spinner until it times out.
    await query.answer(t("common.stale"), show_alert=True)


@router.message(F.chat.type == ChatType.PRIVATE)
async def unknown_message(message: Message, t: Translator) -> None:
    # Stickers, photos, unknown commands: say what the bot understands instead of silence.
    await message.answer(t("common.unknown_message"))
