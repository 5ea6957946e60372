"""Group membership questions (STUB written by g2 so buying in groups can ask them).

g1 owns this module: its real GroupService (cache refreshed on chat_member updates,
is_linked, bot_removed, migrated, ...) replaces this file at the merge. Only `is_admin`
and `forget` are used by the buying code, with the contract's signatures.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError


class GroupService:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """The group's creator or one of its administrators (asked each time: no cache)."""
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError:
            return False  # not known: never grant rights on a guess
        return member.status in {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}

    def forget(self, chat_id: int, user_id: int | None = None) -> None:
        """Nothing cached in this stub."""
