"""Keyboards of the buy area: pure functions from data to markup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.koala import CountryOffer, ProviderOffer
from bot.money import amount_text, money
from bot.texts import Raw, Translator
from bot.ui.callbacks import ANY_COUNTRY, BuyCb, CountryCb, KeyCb, ProviderCb, ServiceCb

SERVICE_PAGE = 12
COUNTRY_PAGE = 10
ALTERNATIVES = 5
_NAME_MAX = 18  # country names are cut so a button fits a phone screen


Button = InlineKeyboardButton


def label(t: Translator, key: str, **values: object) -> str:
    """A button label: button texts are not HTML, so values are not escaped."""
    return t(key, **{k: Raw(str(v)) for k, v in values.items()})


def fit_query(make: Callable[[str], CallbackData], q: str) -> str:
    """The longest prefix of `q` whose packed callback data stays within 64 bytes."""
    q = " ".join(q.replace(":", " ").split())
    while q:
        try:
            make(q).pack()  # raises ValueError past the limit
        except ValueError:
            q = q[:-1].rstrip()
        else:
            return q
    return q


def page_count(items: int, size: int) -> int:
    return max(1, -(-items // size))


def clamp_page(page: int, pages: int) -> int:
    return min(max(page, 0), pages - 1)


def _nav(t: Translator, page: int, pages: int,
         make: Callable[[int], CallbackData], noop: CallbackData) -> list[Button]:
    if pages <= 1:
        return []
    row: list[Button] = []
    if page > 0:
        row.append(Button(text=t("common.prev"), callback_data=make(page - 1).pack()))
    row.append(Button(text=label(t, "common.page", page=page + 1, pages=pages),
                      callback_data=noop.pack()))
    if page < pages - 1:
        row.append(Button(text=t("common.next"), callback_data=make(page + 1).pack()))
    return row


def short_name(name: str) -> str:
    return name if len(name) <= _NAME_MAX else name[:_NAME_MAX - 1].rstrip() + "…"


def stock(count: int) -> str:
    return f"{count / 1000:.1f}k".replace(".0k", "k") if count >= 10000 else str(count)


# --- services ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    code: str
    mark: str = ""  # "fav" | "recent" | ""


_MARKS = {"fav": "⭐ ", "recent": "🕘 "}


def service_menu(t: Translator, catalog: Catalog, o: int, entries: list[ServiceEntry],
                 page: int, *, q: str = "") -> InlineKeyboardMarkup:
    """Two columns of services, page `page`; with `q`, the pages of a search."""
    pages = page_count(len(entries), SERVICE_PAGE)
    page = clamp_page(page, pages)
    chunk = entries[page * SERVICE_PAGE:(page + 1) * SERVICE_PAGE]
    rows: list[list[Button]] = []
    for i in range(0, len(chunk), 2):
        rows.append([
            Button(text=_MARKS.get(e.mark, "") + catalog.service_name(e.code, t.lang),
                   callback_data=ServiceCb(action="pick", o=o, svc=e.code).pack())
            for e in chunk[i:i + 2]
        ])
    action = "search" if q else "page"
    q = fit_query(lambda s: ServiceCb(action=action, o=o, page=pages, q=s), q) if q else ""
    nav = _nav(t, page, pages, lambda p: ServiceCb(action=action, o=o, page=p, q=q),
               ServiceCb(action="noop", o=o))
    if nav:
        rows.append(nav)
    first = (Button(text=t("buy.btn.menu"), callback_data=ServiceCb(action="page", o=o).pack())
             if q else
             Button(text=t("buy.btn.search"), callback_data=ServiceCb(action="hint", o=o).pack()))
    rows.append([first, Button(text=t("common.close"),
                               callback_data=ServiceCb(action="close", o=o).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def nothing_found(t: Translator, o: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=t("buy.btn.menu"), callback_data=ServiceCb(action="page", o=o).pack()),
        Button(text=t("common.close"), callback_data=ServiceCb(action="close", o=o).pack()),
    ]])


def no_key(t: Translator, o: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=t("common.set_key_button"),
               callback_data=KeyCb(action="set", owner=o).pack())]])


# --- countries -----------------------------------------------------------------------


def country_button(t: Translator, catalog: Catalog, o: int, svc: str,
                   offer: CountryOffer, currency: int | None = None) -> Button:
    data = CountryCb(action="pick", o=o, svc=svc, country=offer.country).pack()
    if offer.country == ANY_COUNTRY:
        return Button(text=label(t, "buy.btn.any", price=money(offer.price, currency)),
                      callback_data=data)
    text = label(t, "buy.btn.country", flag=catalog.country_flag(offer.country),
                 name=short_name(catalog.country_name(offer.country, t.lang)),
                 price=money(offer.price, currency), count=stock(offer.count))
    return Button(text=text, callback_data=data)


def country_menu(t: Translator, catalog: Catalog, o: int, svc: str,
                 items: list[CountryOffer], page: int, *, sort: str, q: str,
                 favourite: bool, currency: int | None = None) -> InlineKeyboardMarkup:
    """`items` are in the order shown ("any country" and the pinned default first)."""
    pages = page_count(len(items), COUNTRY_PAGE)
    page = clamp_page(page, pages)
    q = fit_query(lambda s: CountryCb(action="page", o=o, svc=svc, page=pages, sort=sort,
                                      q=s), q) if q else ""
    rows: list[list[Button]] = [
        [country_button(t, catalog, o, svc, offer, currency)]
        for offer in items[page * COUNTRY_PAGE:(page + 1) * COUNTRY_PAGE]
    ]
    nav = _nav(t, page, pages,
               lambda p: CountryCb(action="page", o=o, svc=svc, page=p, sort=sort, q=q),
               CountryCb(action="noop", o=o, svc=svc))
    if nav:
        rows.append(nav)
    other = "s" if sort == "p" else "p"
    rows.append([
        Button(text=t("buy.btn.sort_stock" if sort == "p" else "buy.btn.sort_price"),
               callback_data=CountryCb(action="sort", o=o, svc=svc, sort=other, q=q).pack()),
        Button(text=t("buy.btn.fav_remove" if favourite else "buy.btn.fav_add"),
               callback_data=CountryCb(action="fav", o=o, svc=svc, page=page, sort=sort,
                                       q=q).pack()),
    ])
    back = [Button(text=t("buy.btn.back_services"),
                   callback_data=ServiceCb(action="page", o=o).pack())]
    if q:
        back.insert(0, Button(text=t("buy.btn.all_countries"),
                              callback_data=CountryCb(action="page", o=o, svc=svc,
                                                      sort=sort).pack()))
    rows.append(back)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def no_country_match(t: Translator, o: int, svc: str, q: str) -> InlineKeyboardMarkup:
    q_svc = fit_query(lambda s: ServiceCb(action="search", o=o, q=s), q)
    rows = [[Button(text=t("buy.btn.all_countries"),
                    callback_data=CountryCb(action="page", o=o, svc=svc).pack())]]
    if q_svc:
        rows.append([Button(text=label(t, "buy.btn.search_services", q=q_svc),
                            callback_data=ServiceCb(action="search", o=o, q=q_svc).pack())])
    rows.append([Button(text=t("buy.btn.back_services"),
                        callback_data=ServiceCb(action="page", o=o).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def retry_back(t: Translator, retry: CallbackData, back: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=t("common.try_again"), callback_data=retry.pack()),
        Button(text=t("common.back"), callback_data=back.pack()),
    ]])


def back_only(t: Translator, back: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=t("common.back"), callback_data=back.pack())]])


def to_countries(o: int, svc: str) -> CountryCb:
    return CountryCb(action="page", o=o, svc=svc)


# --- provider picker and confirm -----------------------------------------------------


def provider_menu(t: Translator, o: int, svc: str, country: int, cheapest: float,
                  providers: list[ProviderOffer],
                  currency: int | None = None) -> InlineKeyboardMarkup:
    rows = [[Button(text=label(t, "buy.btn.cheapest", price=money(cheapest, currency)),
                    callback_data=ProviderCb(o=o, svc=svc, country=country,
                                             provider=0).pack())]]
    for p in providers:
        rows.append([Button(
            text=label(t, "buy.btn.provider", id=p.provider_id, price=money(p.price, currency),
                       count=stock(p.count)),
            callback_data=ProviderCb(o=o, svc=svc, country=country,
                                     provider=p.provider_id).pack())])
    rows.append([Button(text=t("buy.btn.back_countries"),
                        callback_data=to_countries(o, svc).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_arg(price: float) -> str:
    """The price as sent back in callback data (and then as maxPrice): the digits shown."""
    return amount_text(price)


def confirm(t: Translator, o: int, svc: str, country: int, price: float,
            provider: int, *, key: str = "buy.btn.buy",
            currency: int | None = None, back: CallbackData | None = None) -> InlineKeyboardMarkup:
    """`back`: where Back goes (the countries unless told)."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=label(t, key, price=money(price, currency)),
               callback_data=BuyCb(action="ok", o=o, svc=svc, country=country,
                                   price=price_arg(price), provider=provider).pack()),
        Button(text=t("common.back"), callback_data=(back or to_countries(o, svc)).pack()),
    ]])


def show_confirm(o: int, svc: str, country: int, provider: int = 0) -> BuyCb:
    return BuyCb(action="show", o=o, svc=svc, country=country, provider=provider)


def alternatives(t: Translator, catalog: Catalog, o: int, svc: str,
                 offers: list[CountryOffer],
                 currency: int | None = None) -> InlineKeyboardMarkup:
    rows = [[Button(
        text=label(t, "buy.btn.alt", flag=catalog.country_flag(offer.country),
                   name=short_name(catalog.country_name(offer.country, t.lang)),
                   price=money(offer.price, currency)),
        callback_data=show_confirm(o, svc, offer.country).pack())] for offer in offers]
    rows.append([Button(text=t("buy.btn.back_countries"),
                        callback_data=to_countries(o, svc).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def bad_key(t: Translator, o: int) -> InlineKeyboardMarkup:
    return no_key(t, o)


def other_service(t: Translator, o: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        Button(text=t("buy.btn.menu"), callback_data=ServiceCb(action="page", o=o).pack())]])
