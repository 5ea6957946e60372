"""The buy menu open in a private chat: which message it is and what typed text means there.

It is remembered on the user's row (bot/services/catalogue.py MenuStore). The replied-to
message can't stand in for it, as people type without replying.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.services.catalogue import MenuRow, MenuStore

# Typed text edits a menu touched this recently; an older one is far up the chat by now,
# so the answer comes as a new message (and the old menu loses its buttons).
FRESH = timedelta(hours=1)

SERVICES = "s"  # service menu, search results: typed text searches services
OTHER = "o"  # any other buy screen: typed text searches services too


def countries_kind(svc: str, sort: str) -> str:
    """A country menu: typed text filters the countries of `svc`."""
    return f"c:{svc}:{sort}"


@dataclass(frozen=True, slots=True)
class OpenMenu:
    chat_id: int
    message_id: int
    kind: str

    @property
    def country_menu(self) -> tuple[str, str] | None:
        """(service, sort) when this is a country menu."""
        kind, _, rest = self.kind.partition(":")
        svc, _, sort = rest.partition(":")
        return (svc, sort or "p") if kind == "c" and svc else None


def open_menu(user_id: int, row: MenuRow) -> OpenMenu | None:
    """The user's open menu in their private chat, if still fresh."""
    if row.message_id is None or not row.kind or row.at is None:
        return None
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    if datetime.now(UTC) - at > FRESH:
        return None
    return OpenMenu(user_id, row.message_id, row.kind)


async def drop_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    with suppress(TelegramAPIError):  # deleted or too old: nothing left to press anyway
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                            reply_markup=None)


async def close(bot: Bot, menus: MenuStore, user_id: int) -> bool:
    """Retire the open menu (its buttons go) and forget it; False when there was none."""
    row = await menus.get(user_id)  # found while its write is still going on, too
    if row.message_id is None:
        return False
    # Forgotten before the Telegram call: a menu shown meanwhile is not forgotten with it.
    await menus.remember(user_id, None, None)
    await drop_buttons(bot, user_id, row.message_id)
    return True
