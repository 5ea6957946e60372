"""/key and /balance: setting, replacing and removing the KoalaSMS API key.

The message that carried a key is always deleted, and the key is never echoed back or
logged: only its mask. Checking and storing it is AccountService's business.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.money import money
from bot.services.accounts import (
    AccountService,
    Balance,
    KeyOutcome,
    carries_key,
    looks_like_key,
)
from bot.services.dto import Problem
from bot.texts import Translator
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import KeyAction, KeyCb
from handlers.screens import (
    PROMPT_ID,
    delete_quietly,
    end_form,
    leave_form_for_command,
    problem_text,
    remember_prompt,
    show,
)

PRIVATE = F.chat.type == "private"
PRIVATE_MENU = F.message.chat.type == "private"


class KeyForm(StatesGroup):
    waiting = State()


def balance_screen(balance: Balance, t: Translator, user_id: int, *,
                   private: bool) -> tuple[str, InlineKeyboardMarkup | None]:
    """The balance of whoever pays here, or what to do when it can't be shown."""
    if not balance.has_key:
        if not private:
            return t("keys.group_private"), None
        return t("common.no_key"), kb.set_key(t, user_id)
    problem = balance.problem
    if problem is None:
        return (t("keys.balance", balance=money(balance.amount or 0.0, balance.currency),
                  hint=balance.hint), kb.start_with_key(t, user_id))
    markup: InlineKeyboardMarkup | None = None
    if problem.kind is Problem.DOWN:
        markup = kb.balance_retry(t, user_id)
    elif problem.kind in {Problem.BAD_KEY, Problem.KEY_UNREADABLE} and private:
        markup = kb.set_key(t, user_id)
    return problem_text(problem, t), markup


async def submit_key(message: Message, raw: str, *, t: Translator, accounts: AccountService,
                     owner_id: int, state: FSMContext) -> None:
    """Check the key, store it, and never leave it in the chat."""
    assert message.from_user is not None
    assert message.bot is not None
    user_id = message.from_user.id
    await delete_quietly(message)
    result = await accounts.submit_key(owner_id, raw, linked_by=user_id)
    if result.outcome in {KeyOutcome.BAD_FORMAT, KeyOutcome.REJECTED}:
        await state.set_state(KeyForm.waiting)
        text = "keys.invalid_format" if result.outcome is KeyOutcome.BAD_FORMAT else "keys.rejected"
        await message.answer(t(text), reply_markup=kb.key_prompt(t, user_id))
        return
    await end_form(message.bot, message.chat.id, state)
    if result.outcome is KeyOutcome.CANT_CHECK:
        await message.answer(t("keys.cant_check"))
    elif result.problem is not None:
        await message.answer(problem_text(result.problem, t) + "\n" + t("keys.not_saved"))
    else:
        await message.answer(t("keys.saved", hint=result.hint, balance=money(result.amount or 0)),
                             reply_markup=kb.start_with_key(t, user_id))


def make_router() -> Router:
    router = Router(name="keys")
    _groups(router)
    _private(router)
    _buttons(router)
    return router


def _groups(router: Router) -> None:
    """Keys are never taken in a group."""

    @router.message(Command("key"), ~PRIVATE)
    async def key_in_group(message: Message, t: Translator) -> None:
        if len((message.text or "").split(maxsplit=1)) > 1:
            await delete_quietly(message)  # it may carry a key
        await message.answer(t("keys.group_private"))

    @router.message(~PRIVATE, F.text.func(carries_key))
    async def key_like_in_group(message: Message, t: Translator) -> None:
        if await delete_quietly(message):
            await message.answer(t("keys.group_deleted"))


def _private(router: Router) -> None:
    @router.message(Command("key"))
    async def key_command(message: Message, command: CommandObject, state: FSMContext,
                          t: Translator, accounts: AccountService, owner_id: int) -> None:
        assert message.from_user is not None
        assert message.bot is not None
        if command.args:
            await submit_key(message, command.args, t=t, accounts=accounts,
                             owner_id=owner_id, state=state)
            return
        await end_form(message.bot, message.chat.id, state)
        user_id = message.from_user.id
        hint = await accounts.key_hint(owner_id)
        if hint is not None:
            await message.answer(t("keys.current", hint=hint),
                                 reply_markup=kb.key_manage(t, user_id))
            return
        sent = await message.answer(t("keys.prompt"), reply_markup=kb.key_prompt(t, user_id))
        await state.set_state(KeyForm.waiting)
        await state.update_data({PROMPT_ID: sent.message_id})

    router.message.register(leave_form_for_command, KeyForm.waiting, F.text.startswith("/"))

    @router.message(KeyForm.waiting, F.text, ~F.text.startswith("/"))
    async def key_sent(message: Message, state: FSMContext, t: Translator,
                       accounts: AccountService, owner_id: int) -> None:
        await submit_key(message, message.text or "", t=t, accounts=accounts,
                         owner_id=owner_id, state=state)

    @router.message(KeyForm.waiting, ~F.text)
    async def not_text_while_waiting(message: Message, t: Translator) -> None:
        await message.answer(t("keys.send_text"))

    # In any state but KeyForm.waiting (handled above): a key pasted while a menu waits for
    # typed text (a country filter, say) must not stay visible in the chat.
    @router.message(PRIVATE, F.text.func(looks_like_key))
    async def key_out_of_the_blue(message: Message, state: FSMContext, t: Translator,
                                  accounts: AccountService, owner_id: int) -> None:
        """A key pasted without /key: taken when none is set, otherwise only hidden."""
        hint = await accounts.key_hint(owner_id)
        if hint is None:
            await submit_key(message, message.text or "", t=t, accounts=accounts,
                             owner_id=owner_id, state=state)
            return
        await delete_quietly(message)
        await message.answer(t("keys.looks_like_key", hint=hint))

    @router.message(Command("balance"))
    async def balance(message: Message, t: Translator, accounts: AccountService,
                      owner_id: int) -> None:
        assert message.from_user is not None
        private = message.chat.type == "private"
        text, markup = balance_screen(await accounts.balance(owner_id), t,
                                      message.from_user.id, private=private)
        await message.answer(text, reply_markup=markup)


def _buttons(router: Router) -> None:
    @router.callback_query(KeyCb.filter(F.action == KeyAction.BALANCE))
    async def balance_button(query: CallbackQuery, t: Translator, accounts: AccountService,
                             owner_id: int) -> None:
        private = query.message is not None and query.message.chat.type == "private"
        await show(query, *balance_screen(await accounts.balance(owner_id), t,
                                          query.from_user.id, private=private))

    @router.callback_query(KeyCb.filter(), ~PRIVATE_MENU)
    async def key_button_in_group(query: CallbackQuery, t: Translator,
                                  callback_answer: CallbackAnswer) -> None:
        callback_answer.text, callback_answer.show_alert = t("keys.group_private"), True

    @router.callback_query(KeyCb.filter(F.action.in_({KeyAction.SET, KeyAction.REPLACE})))
    async def ask_for_key(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
        await show(query, t("keys.prompt"), kb.key_prompt(t, query.from_user.id))
        await state.set_state(KeyForm.waiting)
        await remember_prompt(query, state)

    @router.callback_query(KeyCb.filter(F.action == KeyAction.REMOVE))
    async def remove(query: CallbackQuery, t: Translator, accounts: AccountService,
                     owner_id: int) -> None:
        user_id = query.from_user.id
        hint = await accounts.key_hint(owner_id)
        if hint is None:
            await show(query, t("keys.no_key_to_remove"), kb.set_key(t, user_id))
        else:
            await show(query, t("keys.remove_confirm", hint=hint),
                       kb.key_remove_confirm(t, user_id))

    @router.callback_query(KeyCb.filter(F.action == KeyAction.REMOVE_YES))
    async def remove_confirmed(query: CallbackQuery, t: Translator, accounts: AccountService,
                               owner_id: int) -> None:
        removed = await accounts.remove_key(owner_id, by=query.from_user.id)
        await show(query, t("keys.removed") if removed else t("keys.no_key_to_remove"),
                   kb.set_key(t, query.from_user.id))

    @router.callback_query(KeyCb.filter(F.action == KeyAction.KEEP))
    async def keep(query: CallbackQuery, t: Translator, accounts: AccountService,
                   owner_id: int) -> None:
        hint = await accounts.key_hint(owner_id)
        if hint is None:
            await show(query, t("common.no_key"), kb.set_key(t, query.from_user.id))
        else:
            await show(query, t("keys.kept", hint=hint))

    @router.callback_query(KeyCb.filter(F.action == KeyAction.CANCEL))
    async def cancel(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
        if await state.get_state() == KeyForm.waiting.state:
            await state.clear()
        await show(query, t("keys.cancelled"))
