"""Every button's callback data, in one place, with short prefixes (64-byte limit).

Menus carry `o`, the id of the user who opened them: in a group anyone can press a
button, and only its owner may act on it.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

ANY_COUNTRY = -1  # "any country": the provider picks the best one


class KeyCb(CallbackData, prefix="k"):
    action: str  # set | replace | remove | remove_yes | keep | cancel | balance
    o: int = 0


class ServiceCb(CallbackData, prefix="s"):
    action: str  # page | pick | search | hint | close | noop
    o: int
    page: int = 0
    svc: str = ""
    q: str = ""  # the search query the page belongs to (cut to fit 64 bytes)


class CountryCb(CallbackData, prefix="c"):
    action: str  # page | pick | sort | fav | noop
    o: int
    svc: str
    page: int = 0
    sort: str = "p"  # p: by price, s: by stock
    country: int = ANY_COUNTRY
    q: str = ""  # a typed country filter (cut to fit 64 bytes)


class ProviderCb(CallbackData, prefix="p"):
    o: int
    svc: str
    country: int
    provider: int  # 0: cheapest


class BuyCb(CallbackData, prefix="b"):
    action: str  # show (confirm screen, fresh price) | ok (buy) | back (to countries)
    o: int
    svc: str
    country: int
    price: str = ""  # the price shown, sent as maxPrice
    provider: int = 0


class ActCb(CallbackData, prefix="a"):
    action: str  # cancel | another | done | again | show
    id: int  # our activation row id


class HistoryCb(CallbackData, prefix="h"):
    action: str  # page | csv
    o: int
    page: int = 0


class SettingsCb(CallbackData, prefix="st"):
    # menu | lang | setlang | tz | settz | tzother | country | pickc | csearch | favs | unfav
    # | close
    action: str
    o: int
    value: str = ""



class IntentCb(CallbackData, prefix="pi"):
    """The answer to "which of these numbers did you buy?" after a lost purchase answer."""

    action: str  # pick | none
    id: int  # the purchase intent
    aid: int = 0  # pick: the provider's activation id
