"""Keyboards of the account areas (start, key, balance, settings, history): pure functions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.texts import Translator
from bot.ui.builder import InlineKeyboardBuilder
from bot.ui.callbacks import (
    HistoryAction,
    HistoryCb,
    KeyAction,
    KeyCb,
    ServiceAction,
    ServiceCb,
    SettingsAction,
    SettingsCb,
)

# Offsets offered as buttons, in hours; anything else is typed ("+5:30").
TZ_CHOICES: tuple[int, ...] = (-8, -7, -6, -5, -4, -3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

# Countries people pick most often, by provider code.
COMMON_COUNTRIES: tuple[int, ...] = (0, 187, 16, 22, 6, 4, 10, 2, 1, 43, 15, 73, 62, 78)


def tz_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


# --- start, key, balance ------------------------------------------------------------


def _key(t: Translator, text_key: str, action: KeyAction, owner: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(text_key), callback_data=KeyCb(action=action,
                                                                      owner=owner).pack())


def _one(button: InlineKeyboardButton) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.add(button)
    return builder.as_markup()


def set_key(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _one(_key(t, "common.set_key_button", KeyAction.SET, user_id))


def buy_button(t: Translator, user_id: int) -> InlineKeyboardButton:
    # The buy area's router answers ServiceCb.
    return InlineKeyboardButton(
        text=t("start.buy_button"),
        callback_data=ServiceCb(action=ServiceAction.PAGE, owner=user_id, page=0).pack())


def start_with_key(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _one(buy_button(t, user_id))


def buy_service(t: Translator, user_id: int, service: str, name: str) -> InlineKeyboardMarkup:
    # Only the linked service: the greeting above has the general "Buy a number" already.
    builder = InlineKeyboardBuilder()
    builder.button(text=t("start.buy_service_button", service=name),
                   callback_data=ServiceCb(action=ServiceAction.PICK, owner=user_id, svc=service))
    return builder.as_markup()


def key_prompt(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _one(_key(t, "keys.btn.cancel", KeyAction.CANCEL, user_id))


def key_manage(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_key(t, "keys.btn.replace", KeyAction.REPLACE, user_id),
                _key(t, "keys.btn.remove", KeyAction.REMOVE, user_id))
    builder.row(_key(t, "keys.btn.keep", KeyAction.KEEP, user_id))
    return builder.as_markup()


def key_remove_confirm(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_key(t, "keys.btn.remove_yes", KeyAction.REMOVE_YES, user_id))
    builder.row(_key(t, "keys.btn.keep", KeyAction.KEEP, user_id))
    return builder.as_markup()


def balance_retry(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _one(_key(t, "common.try_again", KeyAction.BALANCE, user_id))


# --- settings ---------------------------------------------------------------------------


def _setting(text: str, action: SettingsAction, owner: int,
             value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=SettingsCb(action=action, owner=owner,
                                                                    value=value).pack())


def _nav(t: Translator, user_id: int,
         back: SettingsAction = SettingsAction.MENU) -> list[InlineKeyboardButton]:
    return [_setting(t("common.back"), back, user_id),
            _setting(t("common.close"), SettingsAction.CLOSE, user_id)]


def settings_menu(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_setting(t("settings.btn.lang"), SettingsAction.LANG, user_id),
                _setting(t("settings.btn.tz"), SettingsAction.TZ, user_id))
    builder.row(_setting(t("settings.btn.country"), SettingsAction.COUNTRY, user_id),
                _setting(t("settings.btn.favs"), SettingsAction.FAVS, user_id))
    builder.row(_setting(t("common.close"), SettingsAction.CLOSE, user_id))
    return builder.as_markup()


def settings_lang(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_setting(t("settings.lang_name.en"), SettingsAction.SET_LANG, user_id, "en"),
                _setting(t("settings.lang_name.ru"), SettingsAction.SET_LANG, user_id, "ru"))
    builder.row(*_nav(t, user_id))
    return builder.as_markup()


def settings_tz(t: Translator, user_id: int, current: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for hours in TZ_CHOICES:
        builder.add(_setting(("• " if hours * 60 == current else "") + tz_label(hours * 60),
                             SettingsAction.SET_TZ, user_id, str(hours * 60)))
    builder.adjust(4)
    builder.row(_setting(t("settings.btn.tz_other"), SettingsAction.TZ_OTHER, user_id))
    builder.row(*_nav(t, user_id))
    return builder.as_markup()


def settings_countries(t: Translator, user_id: int, catalog: Catalog, countries: list[int],
                       *, with_search: bool = True,
                       back: SettingsAction = SettingsAction.MENU) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for country in countries:
        builder.add(_setting(catalog.country_label(country, t.lang),
                             SettingsAction.PICK_COUNTRY, user_id, str(country)))
    builder.adjust(2)
    extra = [_setting(t("settings.btn.country_clear"), SettingsAction.PICK_COUNTRY, user_id,
                      "none")]
    if with_search:
        extra.insert(0, _setting(t("settings.btn.country_search"),
                                 SettingsAction.COUNTRY_SEARCH, user_id))
    builder.row(*extra)
    builder.row(*_nav(t, user_id, back))
    return builder.as_markup()


def settings_favs(t: Translator, user_id: int, catalog: Catalog,
                  favourites: tuple[str, ...]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for service in favourites:
        builder.row(_setting(f"✖ {catalog.service_name(service, t.lang)}",
                             SettingsAction.UNFAV, user_id, service))
    builder.row(*_nav(t, user_id))
    return builder.as_markup()


def settings_back(t: Translator, user_id: int,
                  back: SettingsAction = SettingsAction.MENU) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(*_nav(t, user_id, back))
    return builder.as_markup()


# --- history ------------------------------------------------------------------------------


def _history(text: str, action: HistoryAction, owner: int,
             page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=HistoryCb(action=action, owner=owner,
                                                                   page=page).pack())


def history_nav(t: Translator, user_id: int, page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(_history(t("common.prev"), HistoryAction.PAGE, user_id, page - 1))
    if page + 1 < pages:
        row.append(_history(t("common.next"), HistoryAction.PAGE, user_id, page + 1))
    if row:
        builder.row(*row)
    builder.row(_history(t("history.btn.csv"), HistoryAction.CSV, user_id),
                _history(t("common.close"), HistoryAction.CLOSE, user_id))
    return builder.as_markup()
