"""/start (with deep links), /help and /cancel."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.catalog import Catalog
from bot.koala import KoalaClient
from bot.services.catalogue import CatalogueService
from bot.texts import Translator
from bot.ui import keyboards_account as kb
from bot.ui.cards import user_tz
from handlers import menus
from handlers.keys import KeyForm, balance_view, delete_quietly, drop_prompt, looks_like_key
from handlers.settings import SettingsForm
from storage.models import User
from storage.repo import AccountRepo, UserRepo

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
async def cancel(message: Message, state: FSMContext, t: Translator, users: UserRepo,
                 db_user: User | None, catalog: Catalog,
                 catalogue: CatalogueService) -> None:
    """Leave what is half done; the answer names what that was."""
    assert message.bot is not None
    current = await state.get_state()
    if current is not None:
        await drop_prompt(message.bot, message.chat.id, state)
        await state.clear()
    # Without a form to leave, the buy menu is what is left: its buttons go, and typed text
    # searches services again instead of filtering it.
    forms = {KeyForm.waiting.state, SettingsForm.tz.state, SettingsForm.country.state}
    menu_closed = (current not in forms and message.chat.type == "private"
                   and await menus.close(message.bot, catalogue.menus, message.chat.id))
    if current == KeyForm.waiting.state:
        await message.answer(t("keys.cancelled"))
    elif current == SettingsForm.tz.state and db_user is not None:
        offset = user_tz(db_user).utcoffset(None)
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        await message.answer(t("settings.tz_kept", tz=kb.tz_label(minutes)))
    elif current == SettingsForm.country.state and db_user is not None:
        country = (catalog.country_label(db_user.default_country, t.lang)
                   if db_user.default_country is not None else t("settings.country_none"))
        await message.answer(t("settings.country_kept", country=country))
    elif current is not None or menu_closed:
        await message.answer(t("common.cancelled"))
    else:
        await message.answer(t("common.nothing_to_cancel"))
