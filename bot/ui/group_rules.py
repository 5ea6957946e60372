"""The /groupsettings screens, the /stats text of a group, and the words that name the
rule refusing a purchase (used by the group buy flow too)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.limits import MESSAGE_LIMIT, fit_html
from bot.money import money
from bot.services.group_rules import GroupRules, GroupStats, RuleRefusal
from bot.texts import Translator
from bot.ui.builder import InlineKeyboardBuilder

DAILY_PRESETS = (50, 100, 200, 500, 1000, 5000)
RUNNING_PRESETS = (1, 2, 3, 5, 10)
OFF = "off"


class RulesAction(StrEnum):
    MENU = "m"
    WHO = "w"  # cycle who may buy
    DAILY = "d"  # the daily limit list
    SET_DAILY = "sd"
    RUNNING = "r"
    SET_RUNNING = "sr"
    CODES = "c"  # toggle where codes go
    MEMBERS = "ms"
    TOGGLE = "t"  # value: the member's user id
    CLOSE = "x"


class RulesCb(CallbackData, prefix="gr"):
    """No owner: any of the group's admins may use the screen (checked at every press)."""

    action: RulesAction
    value: str = ""


def _daily(rules: GroupRules, t: Translator) -> str:
    return t("grules.none") if rules.daily_limit is None else money(rules.daily_limit)


def _running(rules: GroupRules, t: Translator) -> str:
    return t("grules.none") if rules.running_limit is None else str(rules.running_limit)


def menu(rules: GroupRules, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    who, codes = t(f"grules.who.{rules.who_may_buy}"), t(f"grules.codes.{rules.codes_to}")
    daily, running = _daily(rules, t), _running(rules, t)
    text = "\n".join([t("grules.title"), t("grules.screen", who=who, daily=daily,
                                          running=running, codes=codes)])
    kb = InlineKeyboardBuilder()
    kb.button(text=t("grules.btn.who", who=who), callback_data=RulesCb(action=RulesAction.WHO))
    kb.button(text=t("grules.btn.daily", daily=daily),
              callback_data=RulesCb(action=RulesAction.DAILY))
    kb.button(text=t("grules.btn.running", running=running),
              callback_data=RulesCb(action=RulesAction.RUNNING))
    kb.button(text=t("grules.btn.codes", codes=codes),
              callback_data=RulesCb(action=RulesAction.CODES))
    kb.button(text=t("grules.btn.members"), callback_data=RulesCb(action=RulesAction.MEMBERS))
    kb.button(text=t("grules.btn.close"), callback_data=RulesCb(action=RulesAction.CLOSE))
    kb.adjust(1)
    return text, kb.as_markup()


def presets(t: Translator, action: RulesAction,
            values: tuple[int, ...]) -> tuple[str, InlineKeyboardMarkup]:
    daily = action == RulesAction.SET_DAILY
    kb = InlineKeyboardBuilder()
    for value in values:
        kb.button(text=money(value) if daily else str(value),
                  callback_data=RulesCb(action=action, value=str(value)))
    kb.button(text=t("grules.btn.off"), callback_data=RulesCb(action=action, value=OFF))
    kb.button(text=t("grules.btn.back"), callback_data=RulesCb(action=RulesAction.MENU))
    kb.adjust(3)
    return t("grules.pick_daily" if daily else "grules.pick_running"), kb.as_markup()


def members(t: Translator, listed: list[tuple[int, str]],
            chosen: frozenset[int]) -> tuple[str, InlineKeyboardMarkup]:
    kb = InlineKeyboardBuilder()
    for user_id, name in listed:
        mark = "✅" if user_id in chosen else "▫️"
        kb.button(text=f"{mark} {name}"[:60],
                  callback_data=RulesCb(action=RulesAction.TOGGLE, value=str(user_id)))
    kb.button(text=t("grules.btn.back"), callback_data=RulesCb(action=RulesAction.MENU))
    kb.adjust(1)
    return t("grules.members") if listed else t("grules.members_empty"), kb.as_markup()


def refusal_text(refusal: RuleRefusal, t: Translator, price: float,
                 currency: int | None = None) -> str:
    """The message for a purchase a rule refused: it names the rule."""
    if refusal.rule == "who_may_buy":
        return t(f"grules.refused.who_may_buy.{refusal.value or 'admins'}")
    if refusal.rule == "daily_limit":
        return t("grules.refused.daily_limit", used=money(refusal.used, currency),
                 limit=money(refusal.limit, currency), price=money(price, currency))
    return t("grules.refused.running_limit", used=str(int(refusal.used)),
             limit=str(int(refusal.limit)))


def stats_text(stats: GroupStats, names: dict[int, str], t: Translator) -> str:
    if not stats.members:
        return t("grules.stats.empty")
    cur = stats.currency
    parts = [t("grules.stats.header")]
    parts += [t("grules.stats.member", name=names.get(m.member_id, str(m.member_id)),
                today=money(m.today, cur), week=money(m.week, cur), month=money(m.month, cur),
                bought=str(m.bought), codes=str(m.codes), refunds=str(m.refunds),
                refunded=money(m.refunded, cur))
              for m in stats.members]
    return fit_html("\n\n".join(parts), MESSAGE_LIMIT)
