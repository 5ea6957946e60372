"""Keyboards of the buy area: pure functions from data to markup."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.koala import CountryOffer, ProviderOffer
from bot.money import amount_text, money
from bot.services.dto import ServiceEntry, ServiceMark
from bot.texts import Raw, Translator
from bot.ui.builder import InlineKeyboardBuilder
from bot.ui.callbacks import (
    BuyAction,
    BuyCb,
    CountryAction,
    CountryCb,
    KeyCb,
    ProviderCb,
    ServiceAction,
    ServiceCb,
)

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


def _button(text: str, data: CallbackData) -> Button:
    return Button(text=text, callback_data=data.pack())


def short_name(name: str) -> str:
    return name if len(name) <= _NAME_MAX else name[:_NAME_MAX - 1].rstrip() + "…"


def stock(count: int) -> str:
    return f"{count / 1000:.1f}k".replace(".0k", "k") if count >= 10000 else str(count)


# --- services ------------------------------------------------------------------------


_MARKS = {ServiceMark.FAVOURITE: "⭐ ", ServiceMark.RECENT: "🕘 "}


def services_page(owner: int) -> ServiceCb:
    return ServiceCb(action=ServiceAction.PAGE, owner=owner)


def service_menu(t: Translator, catalog: Catalog, owner: int, entries: list[ServiceEntry],
                 page: int, *, q: str = "") -> InlineKeyboardMarkup:
    """Two columns of services, page `page`; with `q`, the pages of a search."""
    pages = page_count(len(entries), SERVICE_PAGE)
    page = clamp_page(page, pages)
    builder = InlineKeyboardBuilder()
    for e in entries[page * SERVICE_PAGE:(page + 1) * SERVICE_PAGE]:
        builder.add(_button(_MARKS.get(e.mark, "") + catalog.service_name(e.code, t.lang),
                            ServiceCb(action=ServiceAction.PICK, owner=owner, svc=e.code)))
    builder.adjust(2)
    action = ServiceAction.SEARCH if q else ServiceAction.PAGE
    q = fit_query(lambda s: ServiceCb(action=action, owner=owner, page=pages, q=s), q) if q else ""
    nav = _nav(t, page, pages, lambda p: ServiceCb(action=action, owner=owner, page=p, q=q),
               ServiceCb(action=ServiceAction.NOOP, owner=owner))
    if nav:
        builder.row(*nav)
    first = (_button(t("buy.btn.menu"), services_page(owner)) if q else
             _button(t("buy.btn.search"), ServiceCb(action=ServiceAction.HINT, owner=owner)))
    builder.row(first, _button(t("common.close"),
                               ServiceCb(action=ServiceAction.CLOSE, owner=owner)))
    return builder.as_markup()


def nothing_found(t: Translator, owner: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("buy.btn.menu"), services_page(owner)),
                _button(t("common.close"), ServiceCb(action=ServiceAction.CLOSE, owner=owner)))
    return builder.as_markup()


def no_key(t: Translator, owner: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("common.set_key_button"), KeyCb(action="set", o=owner)))
    return builder.as_markup()


# --- countries -----------------------------------------------------------------------


def country_button(t: Translator, catalog: Catalog, owner: int, svc: str,
                   offer: CountryOffer, currency: int | None = None, *,
                   anywhere: bool = False) -> Button:
    """`anywhere`: the "any country" button, priced by `offer` (the cheapest)."""
    data = CountryCb(action=CountryAction.PICK, owner=owner, svc=svc,
                     country=None if anywhere else offer.country)
    if anywhere:
        return _button(label(t, "buy.btn.any", price=money(offer.price, currency)), data)
    text = label(t, "buy.btn.country", flag=catalog.country_flag(offer.country),
                 name=short_name(catalog.country_name(offer.country, t.lang)),
                 price=money(offer.price, currency), count=stock(offer.count))
    return _button(text, data)


def country_menu(t: Translator, catalog: Catalog, owner: int, svc: str,
                 items: list[CountryOffer], page: int, *, sort: str, q: str,
                 favourite: bool, currency: int | None = None,
                 anywhere: CountryOffer | None = None) -> InlineKeyboardMarkup:
    """`anywhere` ("any country", when offered) comes first, then `items` in the order
    shown (the pinned default first)."""
    rows: list[tuple[CountryOffer, bool]] = ([(anywhere, True)] if anywhere else []) + [
        (offer, False) for offer in items]
    pages = page_count(len(rows), COUNTRY_PAGE)
    page = clamp_page(page, pages)
    q = fit_query(lambda s: CountryCb(action=CountryAction.PAGE, owner=owner, svc=svc, page=pages,
                                      sort=sort, q=s), q) if q else ""
    builder = InlineKeyboardBuilder()
    for offer, is_any in rows[page * COUNTRY_PAGE:(page + 1) * COUNTRY_PAGE]:
        builder.row(country_button(t, catalog, owner, svc, offer, currency, anywhere=is_any))
    nav = _nav(t, page, pages,
               lambda p: CountryCb(action=CountryAction.PAGE, owner=owner, svc=svc, page=p,
                                   sort=sort, q=q),
               CountryCb(action=CountryAction.NOOP, owner=owner, svc=svc))
    if nav:
        builder.row(*nav)
    other = "s" if sort == "p" else "p"
    builder.row(
        _button(t("buy.btn.sort_stock" if sort == "p" else "buy.btn.sort_price"),
                CountryCb(action=CountryAction.SORT, owner=owner, svc=svc, sort=other, q=q)),
        _button(t("buy.btn.fav_remove" if favourite else "buy.btn.fav_add"),
                CountryCb(action=CountryAction.FAV, owner=owner, svc=svc, page=page, sort=sort,
                          q=q)),
    )
    back = [_button(t("buy.btn.back_services"), services_page(owner))]
    if q:
        back.insert(0, _button(t("buy.btn.all_countries"),
                               CountryCb(action=CountryAction.PAGE, owner=owner, svc=svc,
                                         sort=sort)))
    builder.row(*back)
    return builder.as_markup()


def no_country_match(t: Translator, owner: int, svc: str, q: str) -> InlineKeyboardMarkup:
    q_svc = fit_query(lambda s: ServiceCb(action=ServiceAction.SEARCH, owner=owner, q=s), q)
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("buy.btn.all_countries"), to_countries(owner, svc)))
    if q_svc:
        builder.row(_button(label(t, "buy.btn.search_services", q=q_svc),
                            ServiceCb(action=ServiceAction.SEARCH, owner=owner, q=q_svc)))
    builder.row(_button(t("buy.btn.back_services"), services_page(owner)))
    return builder.as_markup()


def retry_back(t: Translator, retry: CallbackData, back: CallbackData) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("common.try_again"), retry), _button(t("common.back"), back))
    return builder.as_markup()


def back_only(t: Translator, back: CallbackData) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("common.back"), back))
    return builder.as_markup()


def to_countries(owner: int, svc: str) -> CountryCb:
    return CountryCb(action=CountryAction.PAGE, owner=owner, svc=svc)


# --- provider picker and confirm -----------------------------------------------------


def provider_menu(t: Translator, owner: int, svc: str, country: int, cheapest: float,
                  providers: list[ProviderOffer],
                  currency: int | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(label(t, "buy.btn.cheapest", price=money(cheapest, currency)),
                        ProviderCb(owner=owner, svc=svc, country=country, provider=0)))
    for p in providers:
        builder.row(_button(
            label(t, "buy.btn.provider", id=p.provider_id, price=money(p.price, currency),
                  count=stock(p.count)),
            ProviderCb(owner=owner, svc=svc, country=country, provider=p.provider_id)))
    builder.row(_button(t("buy.btn.back_countries"), to_countries(owner, svc)))
    return builder.as_markup()


def price_arg(price: float) -> str:
    """The price as sent back in callback data (and then as maxPrice): the digits shown."""
    return amount_text(price)


def confirm(t: Translator, owner: int, svc: str, country: int | None, price: float,
            provider: int, *, key: str = "buy.btn.buy",
            currency: int | None = None, back: CallbackData | None = None) -> InlineKeyboardMarkup:
    """`back`: where Back goes (the countries unless told)."""
    builder = InlineKeyboardBuilder()
    builder.row(
        _button(label(t, key, price=money(price, currency)),
                BuyCb(action=BuyAction.OK, owner=owner, svc=svc, country=country,
                      price=price_arg(price), provider=provider)),
        _button(t("common.back"), back or to_countries(owner, svc)),
    )
    return builder.as_markup()


def show_confirm(owner: int, svc: str, country: int | None, provider: int = 0) -> BuyCb:
    return BuyCb(action=BuyAction.SHOW, owner=owner, svc=svc, country=country, provider=provider)


def alternatives(t: Translator, catalog: Catalog, owner: int, svc: str,
                 offers: list[CountryOffer],
                 currency: int | None = None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for offer in offers:
        builder.row(_button(
            label(t, "buy.btn.alt", flag=catalog.country_flag(offer.country),
                  name=short_name(catalog.country_name(offer.country, t.lang)),
                  price=money(offer.price, currency)),
            show_confirm(owner, svc, offer.country)))
    builder.row(_button(t("buy.btn.back_countries"), to_countries(owner, svc)))
    return builder.as_markup()


def bad_key(t: Translator, owner: int) -> InlineKeyboardMarkup:
    return no_key(t, owner)


def other_service(t: Translator, owner: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.row(_button(t("buy.btn.menu"), services_page(owner)))
    return builder.as_markup()
