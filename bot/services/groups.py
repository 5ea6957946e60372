"""Groups: who is an admin (asked of Telegram, cached briefly), the one-time deep links an
admin opens to set the group's API key in private, unlinking, the bot leaving, and a basic
group becoming a supergroup.

The group's key is an ordinary account whose owner is the group's chat id (< 0): storing,
retiring and polling it is what private accounts already do.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramMigrateToChat

from bot.services.accounts import AccountService, KeySubmit
from storage.db import SessionFactory
from storage.models import utcnow
from storage.repos.groups import GroupLinkRepo, move_group

__all__ = ["ADMIN_CACHE_SECONDS", "LINK_PREFIX", "LINK_TTL", "GroupService", "LinkCheck",
           "LinkRefusal", "OpenedLink"]

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 60.0
LINK_TTL = timedelta(minutes=10)
# The /start payload is "link_<token>": 32 random bytes would overflow the 64 characters
# Telegram allows, 24 (192 bits, 32 characters) is far beyond guessing.
LINK_PREFIX = "link_"
_TOKEN_BYTES = 24
_ADMIN_STATUSES = frozenset({"creator", "administrator"})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkRefusal(enum.Enum):
    UNKNOWN = "unknown"  # never issued, or already used
    EXPIRED = "expired"
    OTHER_ADMIN = "other_admin"  # issued to another admin of the group
    NOT_ADMIN = "not_admin"  # the person is no longer an admin of the group


@dataclass(frozen=True, slots=True)
class OpenedLink:
    chat_id: int
    title: str


@dataclass(frozen=True, slots=True)
class LinkCheck:
    """What a deep link opened: the group (and its title) or why not."""

    link: OpenedLink | None = None
    refusal: LinkRefusal | None = None


class GroupService:
    def __init__(self, db: SessionFactory, bot: Bot, accounts: AccountService, *,
                 cache_seconds: float = ADMIN_CACHE_SECONDS,
                 link_ttl: timedelta = LINK_TTL) -> None:
        self.db = db
        self.bot = bot
        self.accounts = accounts
        self.cache_seconds = cache_seconds
        self.link_ttl = link_ttl
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        self.clock: Callable[[], datetime] = utcnow  # tests move it to expire links
        self._moved: dict[int, int] = {}  # basic group -> the supergroup it became

    # -- admins ------------------------------------------------------------------
    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """Creator or administrator of the chat (getChatMember, cached for a short while;
        chat_member updates drop the entry at once, see forget)."""
        now = time.monotonic()
        cached = self._admins.get((chat_id, user_id))
        if cached is not None and now - cached[0] < self.cache_seconds:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramMigrateToChat as exc:
            # A group that became a supergroup before we heard of it (or a form that
            # remembered the old id): move what it had, then ask the new chat.
            await self.migrated(chat_id, exc.migrate_to_chat_id)
            return await self.is_admin(exc.migrate_to_chat_id, user_id)
        except TelegramAPIError as exc:
            # Not knowing is not being an admin: refusing is the safe side.
            log.warning("getChatMember(%s, %s) failed: %s", chat_id, user_id, exc)
            return False
        admin = member.status in _ADMIN_STATUSES
        self._admins[(chat_id, user_id)] = (now, admin)
        return admin

    def forget(self, chat_id: int, user_id: int | None = None) -> None:
        """Drop cached rights: one member's (a chat_member update) or the whole chat's."""
        if user_id is not None:
            self._admins.pop((chat_id, user_id), None)
            return
        for key in [k for k in self._admins if k[0] == chat_id]:
            del self._admins[key]

    # -- the group's account -----------------------------------------------------
    async def is_linked(self, chat_id: int) -> bool:
        return await self.accounts.key_hint(chat_id) is not None

    async def key_hint(self, chat_id: int) -> str | None:
        return await self.accounts.key_hint(chat_id)

    async def new_link(self, chat_id: int, admin_id: int) -> str:
        """A fresh one-time /start payload bound to this group and this admin."""
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        async with self.db() as session:
            await GroupLinkRepo(session).add(_hash(token), chat_id, admin_id,
                                             self.clock() + self.link_ttl)
        return LINK_PREFIX + token

    async def open_link(self, token: str, user_id: int) -> LinkCheck:
        """Use up a link (whoever opens it: a link someone forwarded is gone too)."""
        async with self.db() as session:
            link = await GroupLinkRepo(session).take(_hash(token))
        if link is None:
            return LinkCheck(refusal=LinkRefusal.UNKNOWN)
        if self.clock() >= link.expires_at:
            return LinkCheck(refusal=LinkRefusal.EXPIRED)
        if link.admin_id != user_id:
            log.warning("group link of %s for chat %s opened by %s",
                        link.admin_id, link.chat_id, user_id)
            return LinkCheck(refusal=LinkRefusal.OTHER_ADMIN)
        self.forget(link.chat_id, user_id)  # rights may have changed since: ask afresh
        if not await self.is_admin(link.chat_id, user_id):
            return LinkCheck(refusal=LinkRefusal.NOT_ADMIN)
        return LinkCheck(link=OpenedLink(link.chat_id, await self._title(link.chat_id)))

    async def may_link(self, chat_id: int, user_id: int) -> bool:
        """Still an admin when the key arrives (minutes may have passed)."""
        self.forget(chat_id, user_id)
        return await self.is_admin(chat_id, user_id)

    async def submit_key(self, chat_id: int, raw: str, *, by: int) -> KeySubmit:
        return await self.accounts.submit_key(chat_id, raw, linked_by=by)

    async def unlink(self, chat_id: int, *, by: int) -> bool:
        """Retire the group's account (running activations are still settled with it)."""
        return await self.accounts.remove_key(chat_id, by=by)

    async def bot_removed(self, chat_id: int) -> None:
        """The bot left or was removed: the group's account takes no more purchases. It is
        retired like /unlink does, so the poller still cancels or completes what runs."""
        self.forget(chat_id)
        if await self.accounts.remove_key(chat_id, by=0):
            log.info("bot removed from chat %s: its account is retired", chat_id)

    def current_id(self, chat_id: int) -> int:
        """The chat's id now (a basic group's id changes when it becomes a supergroup)."""
        return self._moved.get(chat_id, chat_id)

    async def migrated(self, old: int, new: int) -> None:
        """A basic group became a supergroup: everything of `old` now belongs to `new`."""
        self.forget(old)
        self._moved[old] = new
        for chat in (old, new):  # the account moves with the chat
            self.accounts.forget_account(chat)
        try:
            async with self.db() as session:
                moved = await move_group(session, old, new)
        finally:
            for chat in (old, new):
                self.accounts.forget_account(chat)
        if moved:
            log.info("chat %s migrated to %s: %s rows moved", old, new, moved)

    async def title(self, chat_id: int) -> str:
        return await self._title(chat_id)

    async def _title(self, chat_id: int) -> str:
        try:
            chat = await self.bot.get_chat(chat_id)
        except TelegramAPIError:
            return str(chat_id)
        return chat.title or str(chat_id)
