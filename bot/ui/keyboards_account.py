"""Keyboards of the account areas (start, key, balance, settings, history): pure functions."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.texts import Translator
from bot.ui.callbacks import HistoryCb, KeyCb, ServiceAction, ServiceCb, SettingsCb

# Offsets offered as buttons, in hours; anything else is typed ("+5:30").
TZ_CHOICES: tuple[int, ...] = (-8, -7, -6, -5, -4, -3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)

# Countries people pick most often, by provider code.
COMMON_COUNTRIES: tuple[int, ...] = (0, 187, 16, 22, 6, 4, 10, 2, 1, 43, 15, 73, 62, 78)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _markup(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _chunks(items: list[InlineKeyboardButton], size: int) -> list[list[InlineKeyboardButton]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def tz_label(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


# --- start, key, balance ------------------------------------------------------------


def set_key(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([[_button(t("common.set_key_button"), KeyCb(action="set", o=user_id).pack())]])


def buy_button(t: Translator, user_id: int) -> InlineKeyboardButton:
    # The buy area's router answers ServiceCb.
    return _button(t("start.buy_button"), ServiceCb(action=ServiceAction.PAGE, owner=user_id,
                                                            page=0).pack())


def start_with_key(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([[buy_button(t, user_id)]])


def buy_service(t: Translator, user_id: int, service: str, name: str) -> InlineKeyboardMarkup:
    # Only the linked service: the greeting above has the general "Buy a number" already.
    return _markup([
        [_button(t("start.buy_service_button", service=name),
                 ServiceCb(action=ServiceAction.PICK, owner=user_id, svc=service).pack())],
    ])


def key_prompt(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([[_button(t("keys.btn.cancel"), KeyCb(action="cancel", o=user_id).pack())]])


def key_manage(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([
        [_button(t("keys.btn.replace"), KeyCb(action="replace", o=user_id).pack()),
         _button(t("keys.btn.remove"), KeyCb(action="remove", o=user_id).pack())],
        [_button(t("keys.btn.keep"), KeyCb(action="keep", o=user_id).pack())],
    ])


def key_remove_confirm(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([
        [_button(t("keys.btn.remove_yes"), KeyCb(action="remove_yes", o=user_id).pack())],
        [_button(t("keys.btn.keep"), KeyCb(action="keep", o=user_id).pack())],
    ])


def balance_retry(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([[_button(t("common.try_again"), KeyCb(action="balance", o=user_id).pack())]])


# --- settings ---------------------------------------------------------------------------


def _nav(t: Translator, user_id: int, back: str = "menu") -> list[InlineKeyboardButton]:
    return [_button(t("common.back"), SettingsCb(action=back, o=user_id).pack()),
            _button(t("common.close"), SettingsCb(action="close", o=user_id).pack())]


def settings_menu(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    def b(key: str, action: str) -> InlineKeyboardButton:
        return _button(t(key), SettingsCb(action=action, o=user_id).pack())

    return _markup([
        [b("settings.btn.lang", "lang"), b("settings.btn.tz", "tz")],
        [b("settings.btn.country", "country"), b("settings.btn.favs", "favs")],
        [b("common.close", "close")],
    ])


def settings_lang(t: Translator, user_id: int) -> InlineKeyboardMarkup:
    return _markup([
        [_button("🇬🇧 English", SettingsCb(action="setlang", o=user_id, value="en").pack()),
         _button("🇷🇺 Русский", SettingsCb(action="setlang", o=user_id, value="ru").pack())],
        _nav(t, user_id),
    ])


def settings_tz(t: Translator, user_id: int, current: int) -> InlineKeyboardMarkup:
    buttons = [
        _button(("• " if h * 60 == current else "") + tz_label(h * 60),
                SettingsCb(action="settz", o=user_id, value=str(h * 60)).pack())
        for h in TZ_CHOICES
    ]
    rows = _chunks(buttons, 4)
    rows.append([_button(t("settings.btn.tz_other"),
                         SettingsCb(action="tzother", o=user_id).pack())])
    rows.append(_nav(t, user_id))
    return _markup(rows)


def settings_countries(t: Translator, user_id: int, catalog: Catalog, countries: list[int],
                       *, with_search: bool = True, back: str = "menu") -> InlineKeyboardMarkup:
    buttons = [
        _button(catalog.country_label(c, t.lang),
                SettingsCb(action="pickc", o=user_id, value=str(c)).pack())
        for c in countries
    ]
    rows = _chunks(buttons, 2)
    extra = [_button(t("settings.btn.country_clear"),
                     SettingsCb(action="pickc", o=user_id, value="none").pack())]
    if with_search:
        extra.insert(0, _button(t("settings.btn.country_search"),
                                SettingsCb(action="csearch", o=user_id).pack()))
    rows.append(extra)
    rows.append(_nav(t, user_id, back))
    return _markup(rows)


def settings_favs(t: Translator, user_id: int, catalog: Catalog,
                  favourites: list[str]) -> InlineKeyboardMarkup:
    rows = [[_button(f"✖ {catalog.service_name(svc, t.lang)}",
                     SettingsCb(action="unfav", o=user_id, value=svc).pack())]
            for svc in favourites]
    rows.append(_nav(t, user_id))
    return _markup(rows)


def settings_back(t: Translator, user_id: int, back: str = "menu") -> InlineKeyboardMarkup:
    return _markup([_nav(t, user_id, back)])


# --- history ------------------------------------------------------------------------------


def history_nav(t: Translator, user_id: int, page: int, pages: int) -> InlineKeyboardMarkup:
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(_button(t("common.prev"), HistoryCb(action="page", o=user_id,
                                                       page=page - 1).pack()))
    if page + 1 < pages:
        row.append(_button(t("common.next"), HistoryCb(action="page", o=user_id,
                                                       page=page + 1).pack()))
    rows = [row] if row else []
    rows.append([_button(t("history.btn.csv"), HistoryCb(action="csv", o=user_id).pack()),
                 _button(t("common.close"), HistoryCb(action="close", o=user_id).pack())])
    return _markup(rows)
