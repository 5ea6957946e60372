"""/settings: language, time zone, default country and favourites."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.catalog import Catalog
from bot.services.dto import UserInfo
from bot.services.settings import NO_COUNTRY_WORDS, SettingsService, parse_offset
from bot.texts import Translator
from bot.ui import keyboards_account as kb
from bot.ui.callbacks import SettingsAction as Action
from bot.ui.callbacks import SettingsCb
from bot.ui.cards import user_tz
from handlers.screens import (
    close_menu,
    end_form,
    leave_form_for_command,
    remember_prompt,
    show,
)

_MAX_MATCHES = 12  # countries offered for one typed name


class SettingsForm(StatesGroup):
    tz = State()
    country = State()


def _offset(user: UserInfo) -> int:
    delta = user_tz(user).utcoffset(None)
    return int(delta.total_seconds() // 60) if delta is not None else 0


def country_text(country: int | None, t: Translator, catalog: Catalog) -> str:
    return (catalog.country_label(country, t.lang) if country is not None
            else t("settings.country_none"))


async def _menu(t: Translator, user_id: int, settings_service: SettingsService,
                catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    view = await settings_service.view(user_id)
    user = view.user
    text = t("settings.title", lang=t("settings.lang_name"), tz=kb.tz_label(_offset(user)),
             now=datetime.now(user_tz(user)).strftime("%H:%M"),
             country=country_text(user.default_country, t, catalog),
             favs=", ".join(catalog.service_name(s, t.lang) for s in view.favourites) or "—")
    return text, kb.settings_menu(t, user_id)


async def _favourites(t: Translator, user_id: int, settings_service: SettingsService,
                      catalog: Catalog) -> tuple[str, InlineKeyboardMarkup]:
    favourites = await settings_service.favourites(user_id)
    text = (t("settings.favs_title", count=len(favourites)) if favourites
            else t("settings.favs_empty"))
    return text, kb.settings_favs(t, user_id, catalog, favourites)


async def _leave_form(state: FSMContext) -> None:
    current = await state.get_state()
    if current is not None and current.startswith(f"{SettingsForm.__name__}:"):
        await state.clear()


def _number(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def make_router() -> Router:
    router = Router(name="settings")
    _buttons(router)
    _forms(router)
    return router


def _buttons(router: Router) -> None:
    @router.message(Command("settings"))
    async def settings_command(message: Message, state: FSMContext, t: Translator,
                               settings_service: SettingsService, catalog: Catalog) -> None:
        assert message.bot is not None
        assert message.from_user is not None
        await end_form(message.bot, message.chat.id, state)
        text, markup = await _menu(t, message.from_user.id, settings_service, catalog)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(SettingsCb.filter(F.action == Action.CLOSE))
    async def close(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
        await _leave_form(state)
        if not await close_menu(query):  # too old to delete: say so instead
            await show(query, t("settings.closed"))

    @router.callback_query(SettingsCb.filter(F.action == Action.MENU))
    async def menu(query: CallbackQuery, state: FSMContext, t: Translator,
                   settings_service: SettingsService, catalog: Catalog) -> None:
        await _leave_form(state)
        await show(query, *await _menu(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.LANG))
    async def languages(query: CallbackQuery, state: FSMContext, t: Translator) -> None:
        await _leave_form(state)
        await show(query, t("settings.lang_pick"), kb.settings_lang(t, query.from_user.id))

    @router.callback_query(SettingsCb.filter(F.action == Action.SET_LANG))
    async def set_language(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                           t: Translator, settings_service: SettingsService,
                           catalog: Catalog) -> None:
        await _leave_form(state)
        if await settings_service.set_language(query.from_user.id, callback_data.value):
            t = Translator(callback_data.value)  # the menu re-renders in the new language
        await show(query, *await _menu(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.TZ))
    async def time_zones(query: CallbackQuery, state: FSMContext, t: Translator,
                         settings_service: SettingsService) -> None:
        await _leave_form(state)
        offset = _offset((await settings_service.view(query.from_user.id)).user)
        await show(query, t("settings.tz_pick", tz=kb.tz_label(offset)),
                   kb.settings_tz(t, query.from_user.id, offset))

    @router.callback_query(SettingsCb.filter(F.action == Action.SET_TZ))
    async def set_time_zone(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                            t: Translator, settings_service: SettingsService,
                            catalog: Catalog) -> None:
        await _leave_form(state)
        await settings_service.set_offset(query.from_user.id, _number(callback_data.value))
        await show(query, *await _menu(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.COUNTRY))
    async def countries(query: CallbackQuery, state: FSMContext, t: Translator,
                        settings_service: SettingsService, catalog: Catalog) -> None:
        # A person shown a list of countries types the one missing from it.
        await state.set_state(SettingsForm.country)
        await remember_prompt(query, state)
        user = (await settings_service.view(query.from_user.id)).user
        await show(query, t("settings.country_pick",
                            country=country_text(user.default_country, t, catalog)),
                   kb.settings_countries(t, user.id, catalog, list(kb.COMMON_COUNTRIES)))

    @router.callback_query(SettingsCb.filter(F.action == Action.PICK_COUNTRY))
    async def pick_country(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                           t: Translator, settings_service: SettingsService, catalog: Catalog,
                           callback_answer: CallbackAnswer) -> None:
        await _leave_form(state)
        value = callback_data.value
        country = None if value == "none" else _number(value)
        if (value == "none" or country is not None) and await settings_service.set_country(
                query.from_user.id, country):
            callback_answer.text = t("settings.country_set",
                                     country=country_text(country, t, catalog))
        await show(query, *await _menu(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.FAVS))
    async def favourites(query: CallbackQuery, state: FSMContext, t: Translator,
                         settings_service: SettingsService, catalog: Catalog) -> None:
        await _leave_form(state)
        await show(query, *await _favourites(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.UNFAV))
    async def unfavourite(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                          t: Translator, settings_service: SettingsService, catalog: Catalog,
                          callback_answer: CallbackAnswer) -> None:
        await _leave_form(state)
        service = callback_data.value
        if await settings_service.remove_favourite(query.from_user.id, service):
            callback_answer.text = t("settings.fav_removed",
                                     service=catalog.service_name(service, t.lang))
        await show(query, *await _favourites(t, query.from_user.id, settings_service, catalog))

    @router.callback_query(SettingsCb.filter(F.action == Action.TZ_OTHER))
    @router.callback_query(SettingsCb.filter(F.action == Action.COUNTRY_SEARCH))
    async def ask_to_type(query: CallbackQuery, callback_data: SettingsCb, state: FSMContext,
                          t: Translator) -> None:
        typing_tz = callback_data.action is Action.TZ_OTHER
        await state.set_state(SettingsForm.tz if typing_tz else SettingsForm.country)
        await remember_prompt(query, state)
        prompt = "settings.tz_prompt" if typing_tz else "settings.country_prompt"
        back = Action.TZ if typing_tz else Action.COUNTRY
        await show(query, t(prompt), kb.settings_back(t, query.from_user.id, back))


def _forms(router: Router) -> None:
    """Typed answers."""

    for form in (SettingsForm.tz, SettingsForm.country):
        router.message.register(leave_form_for_command, form, F.text.startswith("/"))

    @router.message(SettingsForm.tz, F.text, ~F.text.startswith("/"))
    async def tz_typed(message: Message, state: FSMContext, t: Translator,
                       settings_service: SettingsService, catalog: Catalog) -> None:
        assert message.bot is not None
        assert message.from_user is not None
        minutes = parse_offset(message.text or "")
        if minutes is None:
            await message.answer(t("settings.tz_bad"))
            return
        await settings_service.set_offset(message.from_user.id, minutes)
        await end_form(message.bot, message.chat.id, state)
        text, markup = await _menu(t, message.from_user.id, settings_service, catalog)
        await message.answer(t("settings.tz_set", tz=kb.tz_label(minutes)) + "\n\n" + text,
                             reply_markup=markup)

    @router.message(SettingsForm.country, F.text, ~F.text.startswith("/"))
    async def country_typed(message: Message, state: FSMContext, t: Translator,
                            settings_service: SettingsService, catalog: Catalog) -> None:
        assert message.bot is not None
        assert message.from_user is not None
        user_id = message.from_user.id
        typed = (message.text or "").strip()
        chosen: int | None = None
        if typed.casefold() not in NO_COUNTRY_WORDS:
            matches = settings_service.find_countries(typed)
            if not matches:
                await message.answer(t("settings.country_none_found", query=typed[:64]))
                return
            if len(matches) > 1:
                await message.answer(
                    t("settings.country_many", query=typed[:64]),
                    reply_markup=kb.settings_countries(t, user_id, catalog,
                                                       matches[:_MAX_MATCHES],
                                                       with_search=False,
                                                       back=Action.COUNTRY))
                return
            chosen = matches[0]
        await settings_service.set_country(user_id, chosen)
        await end_form(message.bot, message.chat.id, state)
        text, markup = await _menu(t, user_id, settings_service, catalog)
        await message.answer(t("settings.country_set", country=country_text(chosen, t, catalog))
                             + "\n\n" + text, reply_markup=markup)

    @router.message(SettingsForm.tz, ~F.text)
    @router.message(SettingsForm.country, ~F.text)
    async def not_text_while_typing(message: Message, t: Translator) -> None:
        await message.answer(t("settings.send_text"))
