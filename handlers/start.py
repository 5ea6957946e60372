"""/start (with deep links), /help and /cancel."""

from __future__ import annotations

import re

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.catalog import Catalog
from bot.services.accounts import AccountService, looks_like_key
from bot.services.catalogue import CatalogueService
from bot.services.dto import UserInfo
from bot.services.groups import LINK_PREFIX, GroupService
from bot.texts import Translator
from bot.ui import keyboards_account as kb
from bot.ui.cards import user_tz
from handlers import groups as group_handlers
from handlers import menus
from handlers.keys import KeyForm, balance_screen
from handlers.screens import delete_quietly, end_form
from handlers.settings import SettingsForm, country_text

_SERVICE_CODE = re.compile(r"[a-z0-9]{1,16}")
# Forms whose /cancel answer names what was left; the buy menu stays open under them.
_FORMS = {KeyForm.waiting.state, SettingsForm.tz.state, SettingsForm.country.state,
          group_handlers.GroupKeyForm.waiting.state}


def make_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(cancel, Command("cancel"))
    return router


async def start(message: Message, command: CommandObject, state: FSMContext, t: Translator,
                accounts: AccountService, catalog: Catalog, owner_id: int,
                groups: GroupService) -> None:
    assert message.from_user is not None
    assert message.bot is not None
    user_id = message.from_user.id
    await end_form(message.bot, message.chat.id, state)  # a fresh beginning
    payload = (command.args or "").strip()
    if message.chat.type == "private" and payload.startswith(LINK_PREFIX):
        # An admin's one-time link to send a group's key (handlers/groups.py).
        await group_handlers.open_link(message, payload.removeprefix(LINK_PREFIX), state, t,
                                       groups)
        return
    intro = f"{t('start.hello')}\n{t('start.about')}"
    if message.chat.type != "private":
        await message.answer(f"{intro}\n\n{t('start.group')}")
        return
    if await accounts.key_hint(owner_id) is None:
        await message.answer(f"{intro}\n\n{t('start.need_key')}",
                             reply_markup=kb.set_key(t, user_id))
    else:
        text, markup = balance_screen(await accounts.balance(owner_id), t, user_id,
                                      private=True)
        await message.answer(f"{intro}\n\n{text}", reply_markup=markup)
    await _deep_link(message, payload, t, catalog, user_id)


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


async def help_command(message: Message, t: Translator) -> None:
    await message.answer(t("start.help"))


async def cancel(message: Message, state: FSMContext, t: Translator, db_user: UserInfo | None,
                 catalogue: CatalogueService, catalog: Catalog) -> None:
    """Leave what is half done; the answer names what that was."""
    assert message.bot is not None
    current = await state.get_state()
    if current is not None:
        await end_form(message.bot, message.chat.id, state)
    # Without a form to leave, the buy menu is what is left: its buttons go, and typed text
    # searches services again instead of filtering it.
    menu_closed = (current not in _FORMS and message.chat.type == "private"
                   and db_user is not None
                   and await menus.close(message.bot, catalogue.menus, db_user.id))
    if current == KeyForm.waiting.state:
        await message.answer(t("keys.cancelled"))
    elif current == SettingsForm.tz.state and db_user is not None:
        offset = user_tz(db_user).utcoffset(None)
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        await message.answer(t("settings.tz_kept", tz=kb.tz_label(minutes)))
    elif current == SettingsForm.country.state and db_user is not None:
        await message.answer(t("settings.country_kept",
                               country=country_text(db_user.default_country, t, catalog)))
    elif current is not None or menu_closed:
        await message.answer(t("common.cancelled"))
    else:
        await message.answer(t("common.nothing_to_cancel"))
