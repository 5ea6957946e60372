"""Groups: the bot joining and leaving, /setkey and /unlink for admins, the one-time deep
link that takes the group's key in private, admin rights refreshed by chat_member updates,
and a basic group becoming a supergroup.

A key never travels through the group: /setkey answers with a button to a private chat,
bound to that group and that admin (GroupService.new_link). Key-looking messages posted in
a group are deleted by the keys router (handlers/keys.py).
"""

from __future__ import annotations

import logging
from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import (
    JOIN_TRANSITION,
    LEAVE_TRANSITION,
    ChatMemberUpdatedFilter,
    Command,
)
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link

from bot.money import money
from bot.services.accounts import KeyOutcome
from bot.services.groups import GroupService, LinkRefusal
from bot.texts import Translator
from bot.ui.builder import InlineKeyboardBuilder
from handlers.screens import PROMPT_ID, delete_quietly, end_form, problem_text

log = logging.getLogger(__name__)

GROUP_CHATS = frozenset({"group", "supergroup"})
IN_GROUP = F.chat.type.in_(GROUP_CHATS)
PRIVATE = F.chat.type == "private"
# FSM data of the private form: which group the key is for.
GROUP_ID = "group_id"
GROUP_TITLE = "group_title"

_REFUSALS = {
    LinkRefusal.UNKNOWN: "groups.link_unknown",
    LinkRefusal.EXPIRED: "groups.link_expired",
    LinkRefusal.OTHER_ADMIN: "groups.link_other_admin",
    LinkRefusal.NOT_ADMIN: "groups.link_not_admin",
}


class GroupKeyForm(StatesGroup):
    waiting = State()


def make_router() -> Router:
    router = Router(name="groups")
    router.my_chat_member.register(bot_joined, ChatMemberUpdatedFilter(JOIN_TRANSITION),
                                   IN_GROUP)
    router.my_chat_member.register(bot_left, ChatMemberUpdatedFilter(LEAVE_TRANSITION),
                                   IN_GROUP)
    router.chat_member.register(member_changed)
    router.message.register(member_left, IN_GROUP, F.left_chat_member)
    router.message.register(migrated_to, IN_GROUP, F.migrate_to_chat_id)
    router.message.register(migrated_from, IN_GROUP, F.migrate_from_chat_id)
    router.message.register(setkey, Command("setkey"), IN_GROUP)
    router.message.register(unlink, Command("unlink"), IN_GROUP)
    router.message.register(private_only, Command("setkey", "unlink"), PRIVATE)
    router.message.register(command_while_waiting, GroupKeyForm.waiting, PRIVATE,
                            F.text.startswith("/"))
    router.message.register(key_sent, GroupKeyForm.waiting, PRIVATE, F.text)
    router.message.register(not_text_while_waiting, GroupKeyForm.waiting, PRIVATE)
    return router


# -- the bot itself ----------------------------------------------------------------
async def bot_joined(event: ChatMemberUpdated, t: Translator, groups: GroupService) -> None:
    groups.forget(event.chat.id)
    hint = await groups.key_hint(event.chat.id)
    text = t("groups.intro") if hint is None else t("groups.intro_linked", hint=hint)
    assert event.bot is not None
    with suppress(TelegramAPIError):  # added without the right to post: nothing to say
        await event.bot.send_message(event.chat.id, text)


async def bot_left(event: ChatMemberUpdated, groups: GroupService) -> None:
    await groups.bot_removed(event.chat.id)


async def member_changed(event: ChatMemberUpdated, groups: GroupService) -> None:
    """Promoted, demoted, left, banned: the cached answer is stale from now on."""
    groups.forget(event.chat.id, event.new_chat_member.user.id)


async def member_left(message: Message, groups: GroupService) -> None:
    # Telegram sends chat_member updates only to bots that are admins of the group; the
    # service message reaches every bot, so a leaving admin loses the rights either way.
    assert message.left_chat_member is not None
    groups.forget(message.chat.id, message.left_chat_member.id)


async def migrated_to(message: Message, groups: GroupService) -> None:
    assert message.migrate_to_chat_id is not None
    await groups.migrated(message.chat.id, message.migrate_to_chat_id)


async def migrated_from(message: Message, groups: GroupService) -> None:
    # Both service messages arrive; whichever comes first moves the rows, the other none.
    assert message.migrate_from_chat_id is not None
    await groups.migrated(message.migrate_from_chat_id, message.chat.id)


# -- in the group --------------------------------------------------------------------
async def setkey(message: Message, t: Translator, groups: GroupService) -> None:
    assert message.from_user is not None
    assert message.bot is not None
    if len((message.text or "").split(maxsplit=1)) > 1:
        await delete_quietly(message)  # "/setkey <key>": the key must not stay here
    user = message.from_user
    if not await groups.is_admin(message.chat.id, user.id):
        await message.answer(t("groups.admins_only"))
        return
    payload = await groups.new_link(message.chat.id, user.id)
    link = await create_start_link(message.bot, payload)
    text = t("groups.setkey_prompt", name=user.first_name,
             minutes=int(groups.link_ttl.total_seconds() // 60))
    hint = await groups.key_hint(message.chat.id)
    if hint is not None:
        text += "\n" + t("groups.setkey_replace", hint=hint)
    await message.answer(text, reply_markup=_link_button(t, link))


def _link_button(t: Translator, url: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t("groups.setkey_button"), url=url)
    return builder.as_markup()


async def unlink(message: Message, t: Translator, groups: GroupService) -> None:
    assert message.from_user is not None
    chat_id = message.chat.id
    if not await groups.is_admin(chat_id, message.from_user.id):
        await message.answer(t("groups.admins_only"))
        return
    hint = await groups.key_hint(chat_id)
    if hint is None or not await groups.unlink(chat_id, by=message.from_user.id):
        await message.answer(t("groups.unlink_none"))
        return
    await message.answer(t("groups.unlinked", hint=hint))


async def private_only(message: Message, t: Translator) -> None:
    await message.answer(t("groups.private_only"))


# -- in private: the deep link and the key -------------------------------------------
async def open_link(message: Message, token: str, state: FSMContext, t: Translator,
                    groups: GroupService) -> None:
    """/start link_<token> (called by handlers/start.py)."""
    assert message.from_user is not None
    checked = await groups.open_link(token, message.from_user.id)
    if checked.link is None:
        assert checked.refusal is not None
        await message.answer(t(_REFUSALS[checked.refusal]))
        return
    sent = await message.answer(t("groups.link_prompt", group=checked.link.title))
    await state.set_state(GroupKeyForm.waiting)
    await state.update_data({GROUP_ID: checked.link.chat_id, GROUP_TITLE: checked.link.title,
                             PROMPT_ID: sent.message_id})


async def command_while_waiting(message: Message, state: FSMContext) -> None:
    # Another command: stop waiting for the group's key and let the command through.
    assert message.bot is not None
    await end_form(message.bot, message.chat.id, state)
    raise SkipHandler


async def not_text_while_waiting(message: Message, t: Translator) -> None:
    await message.answer(t("keys.send_text"))


async def key_sent(message: Message, state: FSMContext, t: Translator,
                   groups: GroupService) -> None:
    assert message.from_user is not None
    assert message.bot is not None
    await delete_quietly(message)  # the key must not stay in the chat either
    data = await state.get_data()
    chat_id = int(data[GROUP_ID])
    title = str(data.get(GROUP_TITLE, chat_id))
    user = message.from_user
    if not await groups.may_link(chat_id, user.id):  # rights lost since the link
        await end_form(message.bot, message.chat.id, state)
        await message.answer(t("groups.key_not_admin", group=title))
        return
    chat_id = groups.current_id(chat_id)  # the group may have become a supergroup since
    result = await groups.submit_key(chat_id, message.text or "", by=user.id)
    if result.outcome in {KeyOutcome.BAD_FORMAT, KeyOutcome.REJECTED}:
        text = "keys.invalid_format" if result.outcome is KeyOutcome.BAD_FORMAT else "keys.rejected"
        await message.answer(t(text))  # still waiting: the next message may be the key
        return
    await end_form(message.bot, message.chat.id, state)
    if result.outcome is KeyOutcome.CANT_CHECK:
        await message.answer(t("keys.cant_check"))
    elif result.problem is not None:
        await message.answer(problem_text(result.problem, t) + "\n" + t("keys.not_saved"))
    else:
        await message.answer(t("groups.key_saved", hint=result.hint, group=title,
                               balance=money(result.amount or 0)))
        await _announce(message.bot, chat_id, t, user.first_name, result.hint)


async def _announce(bot: Bot, chat_id: int, t: Translator, name: str, hint: str) -> None:
    """Tell the group who linked which key (the mask only)."""
    try:
        await bot.send_message(chat_id, t("groups.key_saved_group", name=name, hint=hint))
    except TelegramAPIError as exc:
        log.info("could not tell chat %s about its new key: %s", chat_id, exc)
