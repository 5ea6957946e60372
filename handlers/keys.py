"""/key and /balance: setting, replacing and removing the KoalaSMS API key.

A key is checked with getBalance before it is stored (encrypted), the message that
carried it is always deleted, and it is never echoed back or logged: only its mask.
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.koala import KoalaClient
from bot.koala.errors import (
    BadKey,
    Banned,
    KoalaError,
    ServiceUnavailableRegion,
    TransientError,
)
from bot.money import money
from bot.texts import Translator
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import KeyCb
from storage.crypto import KeyDecryptError
from storage.repo import AccountRepo

log = logging.getLogger(__name__)

router = Router(name="keys")

# What the provider's keys are made of; anything else is refused before a request.
KEY_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Stricter: what we treat as a key pasted out of context (letters and digits, long).
KEY_LIKE_RE = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9_-]{24,128}")

PROMPT_ID = "prompt_id"  # FSM data: the message whose buttons go stale with the state


class KeyForm(StatesGroup):
    waiting = State()


# --- helpers shared with start and settings ----------------------------------------------


async def drop_prompt(bot: Bot, chat_id: int, state: FSMContext) -> None:
    """Take the buttons off the prompt of a state that is over."""
    data = await state.get_data()
    prompt_id = data.get(PROMPT_ID)
    if isinstance(prompt_id, int):
        with suppress(TelegramAPIError):
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=prompt_id,
                                                reply_markup=None)


async def show(query: CallbackQuery, text: str,
               markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the menu the button belongs to; send anew when it can't be edited."""
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
    if message is not None and query.bot is not None:
        await query.bot.send_message(message.chat.id, text, reply_markup=markup)


async def delete_quietly(message: Message) -> bool:
    try:
        await message.delete()
    except TelegramAPIError:
        return False
    return True


def provider_error_text(exc: KoalaError, t: Translator) -> str:
    if isinstance(exc, BadKey):
        return t("common.bad_key")
    if isinstance(exc, Banned):
        return t("common.banned", until=exc.until or "?")
    if isinstance(exc, ServiceUnavailableRegion):
        return t("common.region")
    if isinstance(exc, TransientError):
        return t("common.provider_down")
    return t("common.provider_error", text=exc.text)


async def balance_view(t: Translator, accounts: AccountRepo, koala: KoalaClient, owner_id: int,
                       user_id: int, *, private: bool) -> tuple[str, InlineKeyboardMarkup | None]:
    """The balance of whoever pays here, or what to do when it can't be shown."""
    account = await accounts.current(owner_id)
    if account is None:
        if not private:
            return t("keys.group_private"), None
        return t("common.no_key"), kb.set_key(t, user_id)
    try:
        key = accounts.api_key(account)
    except KeyDecryptError:
        return t("common.key_unreadable"), kb.set_key(t, user_id) if private else None
    try:
        amount = await koala.get_balance(key)
    except TransientError:
        return t("common.provider_down"), kb.balance_retry(t, user_id)
    except BadKey:
        return t("common.bad_key"), kb.set_key(t, user_id) if private else None
    except KoalaError as exc:
        return provider_error_text(exc, t), None
    return (t("keys.balance", balance=money(amount, account.currency), hint=account.key_hint),
            kb.start_with_key(t, user_id))


# --- taking a key ----------------------------------------------------------------------------


async def submit_key(message: Message, raw: str, *, t: Translator, koala: KoalaClient,
                     accounts: AccountRepo, owner_id: int, state: FSMContext) -> None:
    """Check the key with the provider, store it, and never leave it in the chat."""
    assert message.from_user is not None
    user_id = message.from_user.id
    await delete_quietly(message)
    key = raw.strip()
    if not KEY_RE.fullmatch(key):
        await state.set_state(KeyForm.waiting)
        await message.answer(t("keys.invalid_format"), reply_markup=kb.key_prompt(t, user_id))
        return
    try:
        amount = await koala.get_balance(key)
    except BadKey:
        await state.set_state(KeyForm.waiting)
        await message.answer(t("keys.rejected"), reply_markup=kb.key_prompt(t, user_id))
        return
    except TransientError:
        await _end_state(message, state)
        await message.answer(t("keys.cant_check"))
        return
    except KoalaError as exc:
        await _end_state(message, state)
        await message.answer(provider_error_text(exc, t) + "\n" + t("keys.not_saved"))
        return
    account = await accounts.set_key(owner_id, key, linked_by=user_id)
    log.info("user %s set an API key (%s)", user_id, account.key_hint)
    await _end_state(message, state)
    await message.answer(t("keys.saved", hint=account.key_hint, balance=money(amount)),
                         reply_markup=kb.start_with_key(t, user_id))


async def _end_state(message: Message, state: FSMContext) -> None:
    assert message.bot is not None
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()


async def _prompt(message: Message, t: Translator, user_id: int, state: FSMContext) -> None:
    sent = await message.answer(t("keys.prompt"), reply_markup=kb.key_prompt(t, user_id))
    await state.set_state(KeyForm.waiting)
    await state.update_data({PROMPT_ID: sent.message_id})


# --- groups: keys are never taken there ---------------------------------------------------


@router.message(Command("key"), F.chat.type != "private")
async def key_in_group(message: Message, t: Translator) -> None:
    text = message.text or ""
    if len(text.split(maxsplit=1)) > 1:
        await delete_quietly(message)  # it may carry a key
    await message.answer(t("keys.group_private"))


def looks_like_key(text: str | None) -> bool:
    # Filters call it on every message: a sticker or a photo has no text at all.
    return text is not None and KEY_LIKE_RE.fullmatch(text.strip()) is not None


@router.message(F.chat.type != "private", F.text.func(looks_like_key))
async def key_like_in_group(message: Message, t: Translator) -> None:
    if await delete_quietly(message):
        await message.answer(t("keys.group_deleted"))


# --- private chat -------------------------------------------------------------------------


@router.message(Command("key"))
async def key_command(message: Message, command: CommandObject, state: FSMContext,
                      t: Translator, koala: KoalaClient, accounts: AccountRepo,
                      owner_id: int) -> None:
    assert message.from_user is not None
    if command.args:
        await submit_key(message, command.args, t=t, koala=koala, accounts=accounts,
                         owner_id=owner_id, state=state)
        return
    await _end_state(message, state)
    account = await accounts.current(owner_id)
    if account is not None:
        await message.answer(t("keys.current", hint=account.key_hint),
                             reply_markup=kb.key_manage(t, message.from_user.id))
        return
    await _prompt(message, t, message.from_user.id, state)


@router.message(KeyForm.waiting, F.text.startswith("/"))
async def command_while_waiting(message: Message, state: FSMContext) -> None:
    # The person moved on to another command: stop waiting for a key and let the command
    # through (SkipHandler goes on to the next handlers, which all exclude commands).
    await _end_state(message, state)
    raise SkipHandler


@router.message(KeyForm.waiting, F.text, ~F.text.startswith("/"))
async def key_sent(message: Message, state: FSMContext, t: Translator, koala: KoalaClient,
                   accounts: AccountRepo, owner_id: int) -> None:
    await submit_key(message, message.text or "", t=t, koala=koala, accounts=accounts,
                     owner_id=owner_id, state=state)


@router.message(KeyForm.waiting, ~F.text)
async def not_text_while_waiting(message: Message, t: Translator) -> None:
    await message.answer(t("keys.send_text"))


# In any state but KeyForm.waiting (handled above): a key pasted while a menu waits for
# typed text (a country filter, say) must not stay visible in the chat.
@router.message(F.chat.type == "private", F.text.func(looks_like_key))
async def key_out_of_the_blue(message: Message, state: FSMContext, t: Translator,
                              koala: KoalaClient, accounts: AccountRepo, owner_id: int) -> None:
    """A key pasted without /key: taken when none is set, otherwise only hidden."""
    text = (message.text or "").strip()
    account = await accounts.current(owner_id)
    if account is None:
        await submit_key(message, text, t=t, koala=koala, accounts=accounts,
                         owner_id=owner_id, state=state)
        return
    await delete_quietly(message)
    await message.answer(t("keys.looks_like_key", hint=account.key_hint))


@router.message(Command("balance"))
async def balance(message: Message, t: Translator, accounts: AccountRepo, koala: KoalaClient,
                  owner_id: int) -> None:
    assert message.from_user is not None
    text, markup = await balance_view(t, accounts, koala, owner_id, message.from_user.id,
                                      private=message.chat.type == "private")
    await message.answer(text, reply_markup=markup)


# --- buttons ----------------------------------------------------------------------------------


@router.callback_query(KeyCb.filter())
async def key_button(query: CallbackQuery, callback_data: KeyCb, state: FSMContext,
                     t: Translator, accounts: AccountRepo, koala: KoalaClient,
                     owner_id: int) -> None:
    user_id = query.from_user.id
    if callback_data.o != user_id:
        await query.answer(t("common.not_yours"), show_alert=True)
        return
    message = query.message
    private = message is not None and message.chat.type == "private"
    action = callback_data.action
    if action == "balance":
        await query.answer()
        text, markup = await balance_view(t, accounts, koala, owner_id, user_id,
                                          private=private)
        await show(query, text, markup)
        return
    if not private:
        await query.answer(t("keys.group_private"), show_alert=True)
        return
    account = await accounts.current(owner_id)
    if action in {"set", "replace"}:
        await query.answer()
        await show(query, t("keys.prompt"), kb.key_prompt(t, user_id))
        await state.set_state(KeyForm.waiting)
        if isinstance(message, Message):
            await state.update_data({PROMPT_ID: message.message_id})
    elif action == "remove":
        await query.answer()
        if account is None:
            await show(query, t("keys.no_key_to_remove"), kb.set_key(t, user_id))
        else:
            await show(query, t("keys.remove_confirm", hint=account.key_hint),
                       kb.key_remove_confirm(t, user_id))
    elif action == "remove_yes":
        removed = await accounts.remove(owner_id)
        await query.answer()
        if removed:
            log.info("user %s removed their API key", user_id)
        await show(query, t("keys.removed") if removed else t("keys.no_key_to_remove"),
                   kb.set_key(t, user_id))
    elif action == "keep":
        await query.answer()
        if account is None:
            await show(query, t("common.no_key"), kb.set_key(t, user_id))
        else:
            await show(query, t("keys.kept", hint=account.key_hint))
    elif action == "cancel":
        await query.answer()
        if await state.get_state() == KeyForm.waiting.state:
            await state.clear()
        await show(query, t("keys.cancelled"))
    else:
        await query.answer(t("common.stale"))
