"""The buy menu open in a private chat: which message it is and what typed text means there.

It is kept on the user's row, not in the FSM: with memory storage a restart forgets the FSM,
and a country typed into a country menu must still filter its countries afterwards. The
replied-to message can't stand in for it, as people type without replying.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from storage.models import User, utcnow
from storage.repo import UserRepo

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


def open_menu(user: User | None) -> OpenMenu | None:
    """The user's open menu in their private chat (whose id is the user's), if still fresh."""
    if user is None or user.menu_message_id is None or not user.menu_kind:
        return None
    if user.menu_at is None or utcnow() - user.menu_at > FRESH:
        return None
    return OpenMenu(user.id, user.menu_message_id, user.menu_kind)


async def drop_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    with suppress(TelegramAPIError):  # deleted or too old: nothing left to press anyway
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                            reply_markup=None)


async def close(bot: Bot, users: UserRepo, user: User | None) -> bool:
    """Retire the open menu (its buttons go) and forget it; False when there was none."""
    if user is None or user.menu_message_id is None:
        return False
    await drop_buttons(bot, user.id, user.menu_message_id)
    await users.set_menu(user, None, None)
    return True
