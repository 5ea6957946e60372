"""/start (with deep links), /help and /cancel."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.catalog import Catalog
from bot.koala import KoalaClient
from bot.texts import Translator
from handlers import keyboards_account as kb
from handlers.keys import balance_view, delete_quietly, drop_prompt, looks_like_key
from storage.repo import AccountRepo

router = Router(name="start")

_SERVICE_CODE = re.compile(r"[a-z0-9]{1,16}")


@router.message(CommandStart())
async def start(message: Message, command: CommandObject, state: FSMContext, t: Translator,
                accounts: AccountRepo, koala: KoalaClient, catalog: Catalog,
                owner_id: int) -> None:
    assert message.from_user is not None
    assert message.bot is not None
    user_id = message.from_user.id
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()  # /start is a fresh beginning, whatever was half done
    intro = f"{t('start.hello')}\n{t('start.about')}"
    if message.chat.type != "private":
        await message.answer(f"{intro}\n\n{t('start.group')}")
        return
    if await accounts.current(owner_id) is None:
        await message.answer(f"{intro}\n\n{t('start.need_key')}",
                             reply_markup=kb.set_key(t, user_id))
    else:
        text, markup = await balance_view(t, accounts, koala, owner_id, user_id, private=True)
        await message.answer(f"{intro}\n\n{text}", reply_markup=markup)
    await _deep_link(message, (command.args or "").strip(), t, catalog, user_id)


async def _deep_link(message: Message, payload: str, t: Translator, catalog: Catalog,
                     user_id: int) -> None:
    """t.me/<bot>?start=<payload>. A link is public, so it never carries a key."""
    kind, _, value = payload.partition("_")
    if kind == "key" or looks_like_key(payload):
        await delete_quietly(message)  # the chat should not keep it either
        await message.answer(t("start.key_link"))
    elif kind == "buy" and _SERVICE_CODE.fullmatch(value):
        name = catalog.service_name(value, t.lang)
        await message.answer(t("start.buy_service", service=name),
                             reply_markup=kb.buy_service(t, user_id, value, name))
    elif kind == "grp":
        await message.answer(t("start.group_link_later"))
    # Anything else (ads' tracking tags and the like) gets the plain greeting.


@router.message(Command("help"))
async def help_command(message: Message, t: Translator) -> None:
    await message.answer(t("start.help"))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, t: Translator) -> None:
    assert message.bot is not None
    if await state.get_state() is None:
        await message.answer(t("common.nothing_to_cancel"))
        return
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()
    await message.answer(t("common.cancelled"))
