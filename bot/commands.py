"""The command menu, published with setMyCommands in English and Russian."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)

from bot.texts import Translator

# (command, text key); the descriptions live in bot/locales/<lang>/commands.ftl.
_PRIVATE: tuple[tuple[str, str], ...] = (
    ("start", "commands.start"),
    ("buy", "commands.buy"),
    ("active", "commands.active"),
    ("balance", "commands.balance"),
    ("history", "commands.history"),
    ("key", "commands.key"),
    ("settings", "commands.settings"),
    ("help", "commands.help"),
    ("cancel", "commands.cancel"),
)


# In a group: what works there for every member (the group's account pays)...
_GROUP: tuple[tuple[str, str], ...] = (
    ("buy", "groups.cmd_buy"),
    ("active", "groups.cmd_active"),
    ("balance", "groups.cmd_balance"),
    ("history", "groups.cmd_history"),
    ("help", "groups.cmd_help"),
)
# ... and, for the group's admins (Telegram shows this scope to them instead), the rest.
_GROUP_ADMINS: tuple[tuple[str, str], ...] = (
    *_GROUP,
    ("setkey", "groups.cmd_setkey"),
    ("unlink", "groups.cmd_unlink"),
    ("groupsettings", "groups.cmd_settings"),
    ("stats", "groups.cmd_stats"),
)


def commands(lang: str, menu: tuple[tuple[str, str], ...] = _PRIVATE) -> list[BotCommand]:
    t = Translator(lang)
    return [BotCommand(command=command, description=t(key)) for command, key in menu]


async def publish_commands(bot: Bot) -> None:
    menus = ((BotCommandScopeAllPrivateChats(), _PRIVATE),
             (BotCommandScopeAllGroupChats(), _GROUP),
             (BotCommandScopeAllChatAdministrators(), _GROUP_ADMINS))
    for scope, menu in menus:
        await bot.set_my_commands(commands("en", menu), scope=scope)
        await bot.set_my_commands(commands("ru", menu), scope=scope, language_code="ru")
