"""The command menu, published with setMyCommands in English and Russian."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

_PRIVATE: tuple[tuple[str, str, str], ...] = (
    ("start", "Start and what the bot does", "Начало и что умеет бот"),
    ("buy", "Buy a number", "Купить номер"),
    ("active", "Running activations", "Активные активации"),
    ("balance", "Account balance", "Баланс"),
    ("history", "Past activations and spending", "История и расходы"),
    ("key", "Set or change the API key", "Указать или сменить API-ключ"),
    ("settings", "Language, country, favourites", "Язык, страна, избранное"),
    ("help", "How to use the bot", "Как пользоваться ботом"),
    ("cancel", "Leave the current menu", "Выйти из текущего меню"),
)


def commands(lang: str) -> list[BotCommand]:
    index = 2 if lang == "ru" else 1
    return [BotCommand(command=row[0], description=row[index]) for row in _PRIVATE]


async def publish_commands(bot: Bot) -> None:
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        await bot.set_my_commands(commands("en"), scope=scope)
        await bot.set_my_commands(commands("ru"), scope=scope, language_code="ru")
