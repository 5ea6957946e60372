"""Every button's callback data, in one place, with short prefixes (64-byte limit).

Menus carry `owner`, the id of the user who opened them: in a group anyone can press a
button, and only its owner may act on it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator, Field

# Button data comes back from the chat, where anyone can forge it: numbers are bounded to
# what the database columns hold (a bigger one used to reach the driver and crash).
INT32_MAX = 2**31 - 1  # INTEGER columns: our row ids, countries
INT64_MAX = 2**63 - 1  # BIGINT columns: Telegram user and chat ids
NO_ROW = 0  # no row has id 0


def _row_id(value: object) -> object:
    """An id no row can have (out of range) is read as NO_ROW, so the press is answered
    "not found" like any other unknown id."""
    try:
        number = int(str(value))
    except ValueError:
        return value  # not a number: the data is refused as a whole
    return number if 0 < number <= INT32_MAX else NO_ROW


RowId = Annotated[int, BeforeValidator(_row_id)]
UserId = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
SmallInt = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]


class KeyAction(StrEnum):
    SET = "set"
    REPLACE = "replace"
    REMOVE = "remove"
    REMOVE_YES = "remove_yes"
    KEEP = "keep"
    CANCEL = "cancel"
    BALANCE = "balance"


class KeyCb(CallbackData, prefix="k"):
    action: KeyAction
    owner: UserId = 0


class ServiceAction(StrEnum):
    PAGE = "pg"  # the service menu (also the "Buy" button of other areas)
    PICK = "pk"  # a service: its countries
    SEARCH = "sr"  # a page of search results
    HINT = "h"  # how to search
    CLOSE = "x"
    NOOP = "n"  # the page counter


class ServiceCb(CallbackData, prefix="s"):
    action: ServiceAction
    owner: UserId  # who opened the menu
    page: SmallInt = 0
    svc: str = ""
    q: str = ""  # the search query the page belongs to (cut to fit 64 bytes)


class CountryAction(StrEnum):
    PAGE = "pg"
    PICK = "pk"  # a country: the supplier picker or the confirm screen
    SORT = "st"
    FAV = "f"  # add the service to / remove it from the favourites
    NOOP = "n"


class CountryCb(CallbackData, prefix="c"):
    action: CountryAction
    owner: UserId  # who opened the menu
    svc: str
    page: SmallInt = 0
    sort: str = "p"  # p: by price, s: by stock
    country: SmallInt | None = None  # None: any country, the provider picks
    q: str = ""  # a typed country filter (cut to fit 64 bytes)


class ProviderCb(CallbackData, prefix="p"):
    owner: UserId  # who opened the menu
    svc: str
    country: SmallInt  # the picker is only offered for a named country
    provider: SmallInt  # 0: cheapest


class BuyAction(StrEnum):
    SHOW = "s"  # the confirm screen, with a fresh price
    OK = "ok"  # buy
    BACK = "b"  # to the countries


class BuyCb(CallbackData, prefix="b"):
    action: BuyAction
    owner: UserId  # who opened the menu
    svc: str
    country: SmallInt | None  # None: any country
    price: str = ""  # the price shown, sent as maxPrice
    provider: SmallInt = 0


class ActAction(StrEnum):
    CANCEL = "cancel"
    ANOTHER = "another"
    DONE = "done"
    AGAIN = "again"  # buy the same again (the buy area answers it)
    SHOW = "show"  # bring the card down below


class ActCb(CallbackData, prefix="a"):
    action: ActAction
    id: RowId  # our activation row id


class HistoryAction(StrEnum):
    PAGE = "page"
    CSV = "csv"
    CLOSE = "close"


class HistoryCb(CallbackData, prefix="h"):
    action: HistoryAction
    owner: UserId
    page: SmallInt = 0


class SettingsAction(StrEnum):
    MENU = "menu"
    LANG = "lang"  # the language list
    SET_LANG = "setlang"
    TZ = "tz"  # the time zone list
    SET_TZ = "settz"
    TZ_OTHER = "tzother"  # type an offset
    COUNTRY = "country"  # the country list
    PICK_COUNTRY = "pickc"
    COUNTRY_SEARCH = "csearch"  # type a country
    FAVS = "favs"
    UNFAV = "unfav"
    CLOSE = "close"


class SettingsCb(CallbackData, prefix="st"):
    action: SettingsAction
    owner: UserId
    value: str = ""


class IntentAction(StrEnum):
    PICK = "pick"  # this number is mine
    NONE = "none"  # none of them


class IntentCb(CallbackData, prefix="pi"):
    """The answer to "which of these numbers did you buy?" after a lost purchase answer."""

    action: IntentAction
    id: int  # the purchase intent
    aid: int = 0  # pick: the provider's activation id
