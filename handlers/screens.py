"""Small pieces every account area uses to put a screen in the chat."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.services.dto import Problem, ProviderProblem
from bot.texts import Translator

PROMPT_ID = "prompt_id"  # FSM data: the message whose buttons go stale with the state


async def drop_prompt(bot: Bot, chat_id: int, state: FSMContext) -> None:
    """Take the buttons off the prompt of a state that is over."""
    data = await state.get_data()
    prompt_id = data.get(PROMPT_ID)
    if isinstance(prompt_id, int):
        with suppress(TelegramAPIError):
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=prompt_id,
                                                reply_markup=None)


async def end_form(bot: Bot, chat_id: int, state: FSMContext) -> None:
    await drop_prompt(bot, chat_id, state)
    await state.clear()


async def leave_form_for_command(message: Message, state: FSMContext) -> None:
    """A command sent while a form waits for typed text: the form is abandoned (its prompt
    loses its buttons) and the command goes on to the handlers after this one, which all
    exclude commands from their forms."""
    assert message.bot is not None
    await end_form(message.bot, message.chat.id, state)
    raise SkipHandler


async def remember_prompt(query: CallbackQuery, state: FSMContext) -> None:
    """The menu pressed becomes the form's prompt (its buttons go when the form ends)."""
    if isinstance(query.message, Message):
        await state.update_data({PROMPT_ID: query.message.message_id})


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


async def close_menu(query: CallbackQuery) -> bool:
    """Delete the menu pressed; False when it is too old to delete."""
    if not isinstance(query.message, Message):
        return True
    return await delete_quietly(query.message)


def problem_text(problem: ProviderProblem, t: Translator) -> str:
    match problem.kind:
        case Problem.BAD_KEY:
            return t("common.bad_key")
        case Problem.BANNED:
            return t("common.banned", until=problem.until or "?")
        case Problem.REGION:
            return t("common.region")
        case Problem.DOWN:
            return t("common.provider_down")
        case Problem.KEY_UNREADABLE:
            return t("common.key_unreadable")
    return t("common.provider_error", text=problem.text)
