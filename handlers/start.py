"""/start and /help."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from bot.texts import Translator

router = Router(name="start")


@router.message(CommandStart())
async def start(message: Message, t: Translator) -> None:
    await message.answer(t("start.hello"))
