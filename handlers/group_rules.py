"""/groupsettings and /stats in a group, for its admins.

Choosing members: the members screen lists those already chosen and the group's recent
buyers; anyone else is chosen by replying to one of their messages with /groupsettings,
which opens the members screen with them listed first. Rights are checked at every
command and every press (an admin who lost the rights can do nothing more).
"""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.services.group_rules import CODES_TO, WHO_MAY_BUY, GroupRulesService
from bot.services.groups import GroupService
from bot.texts import Translator
from bot.ui import group_rules as ui
from bot.ui.group_rules import OFF, RulesAction, RulesCb
from handlers.screens import close_menu, show

GROUPS = F.chat.type.in_({"group", "supergroup"})


async def member_names(bot: Bot, chat_id: int, ids: list[int]) -> dict[int, str]:
    """Names as the group knows them now (getChatMember); the id when it can't say."""
    names: dict[int, str] = {}
    for user_id in dict.fromkeys(ids):
        try:
            names[user_id] = (await bot.get_chat_member(chat_id, user_id)).user.full_name
        except TelegramAPIError:
            names[user_id] = str(user_id)
    return names


async def _members_screen(bot: Bot, chat_id: int, t: Translator, rules: GroupRulesService,
                          first: tuple[int, str] | None = None
                          ) -> tuple[str, InlineKeyboardMarkup]:
    listed = await rules.candidates(chat_id)
    if first is not None:
        listed = [first, *[entry for entry in listed if entry[0] != first[0]]]
    unknown = [uid for uid, name in listed if not name]
    found = await member_names(bot, chat_id, unknown) if unknown else {}
    listed = [(uid, name or found.get(uid, str(uid))) for uid, name in listed]
    return ui.members(t, listed, (await rules.rules(chat_id)).chosen)


def _choices(presets: tuple[int, ...]) -> set[str]:
    return {OFF, *(str(value) for value in presets)}


def make_router() -> Router:
    router = Router(name="group_rules")

    @router.message(Command("groupsettings"), GROUPS)
    async def settings_command(message: Message, bot: Bot, t: Translator,
                               groups: GroupService, group_rules: GroupRulesService) -> None:
        assert message.from_user is not None
        chat_id = message.chat.id
        if not await groups.is_admin(chat_id, message.from_user.id):
            await message.reply(t("grules.admins_only"))
            return
        replied = message.reply_to_message
        target = replied.from_user if replied is not None else None
        if target is not None and not target.is_bot:
            text, markup = await _members_screen(bot, chat_id, t, group_rules,
                                                 (target.id, target.full_name))
            await message.answer(text, reply_markup=markup)
            return
        text, markup = ui.menu(await group_rules.rules(chat_id), t)
        await message.answer(text, reply_markup=markup)

    @router.message(Command("groupsettings"))
    async def settings_elsewhere(message: Message, t: Translator) -> None:
        await message.answer(t("grules.only_groups"))

    @router.message(Command("stats"), GROUPS)
    async def stats_command(message: Message, bot: Bot, t: Translator, groups: GroupService,
                            group_rules: GroupRulesService) -> None:
        assert message.from_user is not None
        chat_id = message.chat.id
        if not await groups.is_admin(chat_id, message.from_user.id):
            await message.reply(t("grules.admins_only"))
            return
        stats = await group_rules.stats(chat_id)
        names = await member_names(bot, chat_id, [m.member_id for m in stats.members])
        await message.answer(ui.stats_text(stats, names, t))

    @router.callback_query(RulesCb.filter(), F.message)
    async def press(query: CallbackQuery, callback_data: RulesCb, bot: Bot, t: Translator,
                    groups: GroupService, group_rules: GroupRulesService,
                    callback_answer: CallbackAnswer) -> None:
        assert query.message is not None
        chat_id = query.message.chat.id
        if not await groups.is_admin(chat_id, query.from_user.id):
            callback_answer.text, callback_answer.show_alert = t("grules.admins_only"), True
            return
        action, value = callback_data.action, callback_data.value
        rules = await group_rules.rules(chat_id)
        if action == RulesAction.CLOSE:
            if not await close_menu(query) and isinstance(query.message, Message):
                with suppress(TelegramAPIError):
                    await query.message.edit_reply_markup(reply_markup=None)
            return
        if action == RulesAction.DAILY:
            await show(query, *ui.presets(t, RulesAction.SET_DAILY, ui.DAILY_PRESETS))
            return
        if action == RulesAction.RUNNING:
            await show(query, *ui.presets(t, RulesAction.SET_RUNNING, ui.RUNNING_PRESETS))
            return
        if action == RulesAction.MEMBERS:
            await show(query, *await _members_screen(bot, chat_id, t, group_rules))
            return
        if action == RulesAction.TOGGLE:
            if not value.isdigit() or not 0 < int(value) < 2**63:  # forged data
                return
            user_id = int(value)
            name = (await member_names(bot, chat_id, [user_id]))[user_id]
            await group_rules.toggle_member(chat_id, user_id, name)
            callback_answer.text = t("grules.saved")
            await show(query, *await _members_screen(bot, chat_id, t, group_rules))
            return
        if action == RulesAction.WHO:
            following = WHO_MAY_BUY[(WHO_MAY_BUY.index(rules.who_may_buy) + 1)
                                    % len(WHO_MAY_BUY)]
            rules = await group_rules.update(chat_id, who_may_buy=following)
        elif action == RulesAction.CODES:
            following_to = CODES_TO[(CODES_TO.index(rules.codes_to) + 1) % len(CODES_TO)]
            rules = await group_rules.update(chat_id, codes_to=following_to)
        # Only the values the buttons offer: anything else is forged data.
        elif action == RulesAction.SET_DAILY and value in _choices(ui.DAILY_PRESETS):
            rules = await group_rules.update(
                chat_id, daily_limit=None if value == OFF else float(value))
        elif action == RulesAction.SET_RUNNING and value in _choices(ui.RUNNING_PRESETS):
            rules = await group_rules.update(
                chat_id, running_limit=None if value == OFF else int(value))
        if action != RulesAction.MENU:
            callback_answer.text = t("grules.saved")
        await show(query, *ui.menu(rules, t))

    return router
