"""Checks every area needs before its own handlers see a button press.

A menu's callback data carries `owner` (`o` in the buy area), the user who opened it:
in a group anyone can press any button, and only the menu's owner may act on it. One
handler here answers every press on someone else's menu, so no area repeats the check.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

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
            return bool(owner) and owner != query.from_user.id
        return False


def make_router() -> Router:
    router = Router(name="guards")

    @router.callback_query(ForeignMenu())
    async def foreign_menu(query: CallbackQuery, t: Translator,
                           callback_answer: CallbackAnswer) -> None:
        callback_answer.text, callback_answer.show_alert = t("common.not_yours"), True

    return router
