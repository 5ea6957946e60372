"""STUB written by g3 until g1's GroupService lands: g1's real file replaces this one.

Only `is_admin` (the contract g3 uses): getChatMember through the Bot, creator counts as
admin. No cache here; g1's version caches it briefly and forgets on chat_member updates.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError


class GroupService:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError:
            return False
        return member.status in ("creator", "administrator")

    def forget(self, chat_id: int, user_id: int | None = None) -> None:
        """Nothing cached in the stub."""
