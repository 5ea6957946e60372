"""The command menu, published with setMyCommands in English and Russian."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

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


def commands(lang: str) -> list[BotCommand]:
    t = Translator(lang)
    return [BotCommand(command=command, description=t(key)) for command, key in _PRIVATE]


async def publish_commands(bot: Bot) -> None:
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        await bot.set_my_commands(commands("en"), scope=scope)
        await bot.set_my_commands(commands("ru"), scope=scope, language_code="ru")
