"""Checks every area needs before its own handlers see a button press.

A menu's callback data carries `owner` (`o` in the buy area), the user who opened it:
in a group anyone can press any button, and only the menu's owner may act on it. One
handler here answers every press on someone else's menu, so no area repeats the check.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.limits import cut
from bot.texts import Translator
from bot.ui.callbacks import (
    BuyCb,
    CountryCb,
    HistoryCb,
    KeyCb,
    ProviderCb,
    ServiceCb,
    SettingsCb,
)

# Characters of a name quoted in a toast (a toast holds 200; names can be long).
NAME_LIMIT = 64

# Every callback data class whose `owner` (or `o`) names the menu's owner.
OWNED: tuple[type[CallbackData], ...] = (KeyCb, ServiceCb, CountryCb, ProviderCb, BuyCb,
                                         HistoryCb, SettingsCb)


class ForeignMenu(Filter):
    """True for a press on a menu that belongs to someone else (owner set and not the
    presser). A menu with owner 0 belongs to nobody in particular."""

    async def __call__(self, query: CallbackQuery) -> bool | dict[str, Any]:
        data = query.data or ""
        for cls in OWNED:
            if not data.startswith(cls.__prefix__ + cls.__separator__):
                continue
            try:
                unpacked = cls.unpack(data)
                owner = getattr(unpacked, "owner", 0)
            except (TypeError, ValueError):
                return False  # forged data: the areas answer "out of date"
            if bool(owner) and owner != query.from_user.id:
                return {"menu_owner": int(owner)}
            return False
        return False


async def owner_name(bot: Bot, chat_id: int, user_id: int) -> str | None:
    """The member's name as the group shows it (None: not known, e.g. they left)."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError:
        return None
    return member.user.full_name


def make_router() -> Router:
    router = Router(name="guards")

    @router.callback_query(ForeignMenu())
    async def foreign_menu(query: CallbackQuery, t: Translator, bot: Bot, menu_owner: int,
                           callback_answer: CallbackAnswer) -> None:
        text = t("common.not_yours")
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            # In a group, say whose menu it is: the presser can ask them, or open their own.
            name = await owner_name(bot, chat.id, menu_owner)
            if name is not None:
                text = t("group_buy.not_your_menu", name=cut(name, NAME_LIMIT))
        callback_answer.text, callback_answer.show_alert = text, True

    return router
