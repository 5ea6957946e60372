"""/settings: language, time zone, default country and favourites."""

from __future__ import annotations

import re
from datetime import datetime

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.catalog import Catalog
from bot.texts import LANGUAGES, Translator
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import SettingsCb
from bot.ui.cards import user_tz
from handlers.keys import PROMPT_ID, drop_prompt, show
from storage.models import User
from storage.repo import UserRepo

router = Router(name="settings")

# "+3", "-4:30", "UTC+5:45", "gmt -3"
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-−]?)\s*(\d{1,2})(?:[:.](\d{2}))?", re.IGNORECASE)
_NO_COUNTRY = frozenset({"none", "no", "-", "нет", "никакая", "любая", "any"})
_MAX_MATCHES = 12


class SettingsForm(StatesGroup):
    tz = State()
    country = State()


def parse_offset(text: str) -> int | None:
    """Minutes east of UTC, or None when it is no real offset."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    sign, hours, mins = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if mins not in {0, 15, 30, 45}:
        return None
    total = hours * 60 + mins
    total = -total if sign in {"-", "−"} else total
    return total if -12 * 60 <= total <= 14 * 60 else None


def _offset(user: User) -> int:
    delta = user_tz(user).utcoffset(None)
    return int(delta.total_seconds() // 60)


async def _menu(t: Translator, user: User, users: UserRepo,
                catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    favourites = await users.favourites(user.id)
    tz = user_tz(user)
    country = (catalog.country_label(user.default_country, t.lang)
               if user.default_country is not None else t("settings.country_none"))
    text = t("settings.title", lang=t("settings.lang_name"), tz=kb.tz_label(_offset(user)),
             now=datetime.now(tz).strftime("%H:%M"), country=country,
             favs=", ".join(catalog.service_name(s, t.lang) for s in favourites) or "—")
    return text, kb.settings_menu(t, user.id)


async def _leave_form(state: FSMContext) -> None:
    current = await state.get_state()
    if current is not None and current.startswith(f"{SettingsForm.__name__}:"):
        await state.clear()


@router.message(Command("settings"))
async def settings_command(message: Message, state: FSMContext, t: Translator,
                           db_user: User | None, users: UserRepo, catalog: Catalog) -> None:
    assert db_user is not None
    assert message.bot is not None
    await drop_prompt(message.bot, message.chat.id, state)
    await _leave_form(state)
    text, markup = await _menu(t, db_user, users, catalog)
    await message.answer(text, reply_markup=markup)


@router.callback_query(SettingsCb.filter())
async def settings_button(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                          t: Translator, db_user: User | None, users: UserRepo,
                          catalog: Catalog) -> None:
    user = db_user
    if user is None or callback_data.o != query.from_user.id:
        await query.answer(t("common.not_yours"), show_alert=True)
        return
    action, value = callback_data.action, callback_data.value
    answer = ""
    if action not in {"tzother", "csearch"}:
        await _leave_form(state)
    if action == "close":
        await query.answer()
        if isinstance(query.message, Message):
            try:
                await query.message.delete()
            except TelegramAPIError:  # too old to delete: say so instead
                await show(query, t("settings.closed"))
        return
    if action == "setlang" and value in LANGUAGES:
        user.language = value
        await users.save(user)
        t = Translator(value)  # the menu re-renders in the new language
    elif action == "settz":
        minutes = _int(value)
        if minutes is not None and -12 * 60 <= minutes <= 14 * 60:
            user.tz_offset_minutes = minutes
            await users.save(user)
    elif action == "pickc":
        country = None if value == "none" else _int(value)
        if country is None or country in catalog.known_countries():
            user.default_country = country
            await users.save(user)
            answer = t("settings.country_set", country=catalog.country_label(country, t.lang)
                       if country is not None else t("settings.country_none"))
    elif action == "unfav" and await users.remove_favourite(user.id, value):
        answer = t("settings.fav_removed", service=catalog.service_name(value, t.lang))
    await query.answer(answer)
    await show(query, *await _screen(action, t, user, users, catalog, state, query))


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


async def _screen(action: str, t: Translator, user: User, users: UserRepo, catalog: Catalog,
                  state: FSMContext, query: CallbackQuery) -> tuple[str, InlineKeyboardMarkup]:
    """What the menu shows after a press."""
    if action == "lang":
        return t("settings.lang_pick"), kb.settings_lang(t, user.id)
    if action == "tz":
        return (t("settings.tz_pick", tz=kb.tz_label(_offset(user))),
                kb.settings_tz(t, user.id, _offset(user)))
    if action == "country":
        # A person shown a list of countries types the one missing from it.
        await state.set_state(SettingsForm.country)
        if isinstance(query.message, Message):
            await state.update_data({PROMPT_ID: query.message.message_id})
        current = (catalog.country_label(user.default_country, t.lang)
                   if user.default_country is not None else t("settings.country_none"))
        return (t("settings.country_pick", country=current),
                kb.settings_countries(t, user.id, catalog, list(kb.COMMON_COUNTRIES)))
    if action in {"favs", "unfav"}:
        favourites = await users.favourites(user.id)
        text = (t("settings.favs_title", count=len(favourites)) if favourites
                else t("settings.favs_empty"))
        return text, kb.settings_favs(t, user.id, catalog, favourites)
    if action in {"tzother", "csearch"}:
        await state.set_state(SettingsForm.tz if action == "tzother" else SettingsForm.country)
        if isinstance(query.message, Message):
            await state.update_data({PROMPT_ID: query.message.message_id})
        back = "tz" if action == "tzother" else "country"
        prompt = "settings.tz_prompt" if action == "tzother" else "settings.country_prompt"
        return t(prompt), kb.settings_back(t, user.id, back)
    # menu, and every change: back to the main screen
    return await _menu(t, user, users, catalog)


# --- typed answers -----------------------------------------------------------------------------


@router.message(SettingsForm.tz, F.text.startswith("/"))
@router.message(SettingsForm.country, F.text.startswith("/"))
async def command_while_typing(message: Message, state: FSMContext) -> None:
    # Another command: the form is abandoned and the command handled by its router.
    assert message.bot is not None
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()
    raise SkipHandler


@router.message(SettingsForm.tz, F.text, ~F.text.startswith("/"))
async def tz_typed(message: Message, state: FSMContext, t: Translator, db_user: User | None,
                   users: UserRepo, catalog: Catalog) -> None:
    assert db_user is not None
    assert message.bot is not None
    minutes = parse_offset(message.text or "")
    if minutes is None:
        await message.answer(t("settings.tz_bad"))
        return
    db_user.tz_offset_minutes = minutes
    await users.save(db_user)
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()
    text, markup = await _menu(t, db_user, users, catalog)
    await message.answer(t("settings.tz_set", tz=kb.tz_label(minutes)) + "\n\n" + text,
                         reply_markup=markup)


@router.message(SettingsForm.country, F.text, ~F.text.startswith("/"))
async def country_typed(message: Message, state: FSMContext, t: Translator,
                        db_user: User | None, users: UserRepo, catalog: Catalog) -> None:
    assert db_user is not None
    assert message.bot is not None
    query = (message.text or "").strip()
    if query.casefold() in _NO_COUNTRY:
        chosen: int | None = None
    else:
        matches = _find_countries(catalog, query, t.lang)
        if not matches:
            await message.answer(t("settings.country_none_found", query=query[:64]))
            return
        if len(matches) > 1:
            await message.answer(
                t("settings.country_many", query=query[:64]),
                reply_markup=kb.settings_countries(t, db_user.id, catalog,
                                                   matches[:_MAX_MATCHES], with_search=False,
                                                   back="country"))
            return
        chosen = matches[0]
    db_user.default_country = chosen
    await users.save(db_user)
    await drop_prompt(message.bot, message.chat.id, state)
    await state.clear()
    label = (catalog.country_label(chosen, t.lang) if chosen is not None
             else t("settings.country_none"))
    text, markup = await _menu(t, db_user, users, catalog)
    await message.answer(t("settings.country_set", country=label) + "\n\n" + text,
                         reply_markup=markup)


def _find_countries(catalog: Catalog, query: str, lang: str) -> list[int]:
    """Countries matching the query; an exact name wins over partial matches."""
    if not query or len(query) > 64:
        return []
    matches = [c for c in catalog.known_countries() if catalog.country_matches(c, query)]
    folded = query.casefold()
    exact = [c for c in matches
             if folded in {catalog.country_name(c, "en").casefold(),
                           catalog.country_name(c, "ru").casefold()}]
    return exact or matches


@router.message(SettingsForm.tz, ~F.text)
@router.message(SettingsForm.country, ~F.text)
async def not_text_while_typing(message: Message, t: Translator) -> None:
    await message.answer(t("settings.send_text"))
