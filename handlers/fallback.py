"""Last router: answers button presses and messages nobody else understood."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.texts import Translator


def make_router() -> Router:
    router = Router(name="fallback")
    router.callback_query.register(stale_button)
    router.message.register(not_text, F.chat.type == ChatType.PRIVATE, F.text.is_(None))
    router.message.register(unknown_message, F.chat.type == ChatType.PRIVATE)
    router.message.register(not_text_in_group, F.chat.type != ChatType.PRIVATE, F.text.is_(None),
                            _addressed_to_bot)
    return router


async def stale_button(query: CallbackQuery, t: Translator,
                       callback_answer: CallbackAnswer) -> None:
    # Unanswered, the client would show a spinner until it times out.
    callback_answer.text, callback_answer.show_alert = t("common.stale"), True


async def not_text(message: Message, t: Translator) -> None:
    # Stickers, photos, voice, locations...: the bot reads text only, and says so.
    await message.answer(t("common.not_text"))


async def unknown_message(message: Message, t: Translator) -> None:
    # Unknown commands and text nobody took: say what the bot understands instead of silence.
    await message.answer(t("common.unknown_message"))


async def _addressed_to_bot(message: Message, bot: Bot) -> bool:
    """In a group, a message is for the bot only when it replies to the bot or names it."""
    me = await bot.me()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
        return True
    caption = (message.caption or "").casefold()
    return bool(me.username) and f"@{me.username}".casefold() in caption


async def not_text_in_group(message: Message, t: Translator) -> None:
    # Everything else in a group is the members' conversation: the bot stays silent.
    await message.answer(t("common.not_text"))
