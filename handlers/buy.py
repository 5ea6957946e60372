"""Buying in a private chat: service menu and search, countries with live prices, the
provider picker, the confirm screen, the purchase itself and a way forward from every
error.

Every screen is rebuilt from its callback data alone, so buttons keep working after a
restart. The open menu (handlers/menus.py) is edited in place by typed text, and a new one
takes the buttons off the previous one, so the chat holds one live menu.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import BaseMiddleware, Bot, Dispatcher, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from bot import prices as px
from bot.activations import ActivationManager, PurchaseLost, PurchasePending
from bot.catalog import Catalog
from bot.koala import (
    BadKey,
    BadService,
    Banned,
    CountryOffer,
    KoalaClient,
    KoalaError,
    NoBalance,
    NoNumbers,
    ServiceProhibited,
    ServiceUnavailableRegion,
    TransientError,
    WrongMaxPrice,
)
from bot.money import money
from bot.prices import PriceCache
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from bot.ui.callbacks import (
    ANY_COUNTRY,
    ActCb,
    BuyCb,
    CountryCb,
    IntentCb,
    ProviderCb,
    ServiceCb,
)
from handlers import menus
from handlers.menus import OpenMenu
from storage.models import User
from storage.repo import INTENT_ADOPTED, AccountRepo, ActivationRepo, IntentRepo, UserRepo

log = logging.getLogger(__name__)

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


class _Registrations:
    """Shim until this area is split into services and make_router() modules: the
    decorators below only note each handler, make_router() registers them on a router made
    anew for each dispatcher."""

    def __init__(self) -> None:
        self.messages: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.callbacks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def message(self, *filters: Any) -> Callable[[_Handler], _Handler]:
        def note(handler: _Handler) -> _Handler:
            self.messages.append((handler, filters))
            return handler
        return note

    def callback_query(self, *filters: Any) -> Callable[[_Handler], _Handler]:
        def note(handler: _Handler) -> _Handler:
            self.callbacks.append((handler, filters))
            return handler
        return note


router = _Registrations()


def make_router() -> Router:
    fresh = Router(name="buy")
    # Buying for a group (its key, its limits) is the groups area's business.
    fresh.message.filter(F.chat.type == ChatType.PRIVATE)
    fresh.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    fresh.message.middleware(_ContextMiddleware())
    fresh.callback_query.middleware(_ContextMiddleware())
    for handler, filters in router.messages:
        fresh.message.register(handler, *filters)
    for handler, filters in router.callbacks:
        fresh.callback_query.register(handler, *filters)
    return fresh

# Button data of buy screens (other than the plain "open the menu" one), to tell a buy
# screen, which is edited in place, from another area's message, which is left alone.
_OWN_PREFIXES = ("s:pick:", "s:close:", "s:hint:", "s:search:", "c:", "p:", "b:")


class BuyStates(StatesGroup):
    # Set by older versions in a country menu; the open menu on the user's row took over.
    country = State()


@dataclass
class BuyGuard:
    """Per-dispatcher memory that stops a double tap from buying twice."""

    busy: set[int] = field(default_factory=set)  # users with a purchase in flight
    # Confirm messages that already bought (bounded: only recent taps matter).
    done: OrderedDict[tuple[int, int], None] = field(default_factory=OrderedDict)

    def mark_done(self, chat_id: int, message_id: int) -> None:
        self.done[(chat_id, message_id)] = None
        while len(self.done) > 1000:
            self.done.popitem(last=False)


@dataclass
class BuyContext:
    t: Translator
    bot: Bot
    catalog: Catalog
    prices: PriceCache
    koala: KoalaClient
    manager: ActivationManager
    accounts: AccountRepo
    users: UserRepo
    activations: ActivationRepo
    owner_id: int
    db_user: User | None
    state: FSMContext
    guard: BuyGuard


class _ContextMiddleware(BaseMiddleware):
    """Bundles what every buy handler needs into one `ctx` argument. Shim: it opens the
    update's session and repositories itself (the shared middleware no longer hands them
    out) and answers presses by hand (CallbackAnswerMiddleware is told to stay out)."""

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        dispatcher: Dispatcher = data["dispatcher"]
        guard = dispatcher.workflow_data.setdefault("buy_guard", BuyGuard())
        answer = data.get("callback_answer")
        if isinstance(answer, CallbackAnswer):
            answer.disable()
        async with data["db"]() as session:
            users = UserRepo(session)
            db_user = None
            if data["db_user"] is not None:
                db_user = await users.get_or_create(data["db_user"].id)
            data["ctx"] = BuyContext(
                t=data["t"], bot=data["bot"], catalog=data["catalog"], prices=data["prices"],
                koala=data["koala"], manager=data["manager"],
                accounts=AccountRepo(session, data["keybox"]), users=users,
                activations=ActivationRepo(session), owner_id=data["owner_id"],
                db_user=db_user, state=data["state"], guard=guard)
            return await handler(event, data)

# A typed message, a pressed button, or the open menu that typed text edits.
Event = Message | CallbackQuery | OpenMenu
# Callback data prefixes of buy screens: a message showing one of these is the open menu.
_MENU_PREFIXES = ("s:", "c:", "p:", "b:")


# --- showing screens -----------------------------------------------------------------


def _is_buy_screen(message: Message) -> bool:
    markup = message.reply_markup
    if markup is None:
        return False
    return any((b.callback_data or "").startswith(_OWN_PREFIXES)
               for row in markup.inline_keyboard for b in row)


async def show(ctx: BuyContext, event: Event, text: str,
               markup: InlineKeyboardMarkup | None = None, *, new: bool = False,
               menu: str = menus.OTHER) -> None:
    """Edit the pressed message (or the open menu) into the next screen, or send a new one.
    `menu` says what typed text means while this screen is the open menu."""
    # Bookkeeping comes first where it can: the screen appearing is the last step, so a
    # person who acts on it at once finds everything in place.
    is_menu = markup is not None and any(
        (b.callback_data or "").startswith(_MENU_PREFIXES)
        for row in markup.inline_keyboard for b in row)
    target = _edit_target(event, new=new)
    user = ctx.db_user
    previous = user.menu_message_id if user is not None else None
    if (is_menu and user is not None and previous is not None
            and (target is None or target[1] != previous)):
        await menus.drop_buttons(ctx.bot, user.id, previous)  # one live menu per chat
    if target is not None:
        await _remember(ctx, *target, is_menu, menu)
    shown = await _put(ctx, event, text, markup, new=new)
    if shown != target:  # sent as a new message
        if target is not None and is_menu:
            await menus.drop_buttons(ctx.bot, *target)  # not editable, but maybe pressable
        await _remember(ctx, *shown, is_menu, menu)


def _edit_target(event: Event, *, new: bool) -> tuple[int, int] | None:
    """The message `_put` will try to edit, if any."""
    if isinstance(event, OpenMenu):
        return event.chat_id, event.message_id
    if isinstance(event, CallbackQuery) and not new and isinstance(event.message, Message):
        return event.message.chat.id, event.message.message_id
    return None


async def _put(ctx: BuyContext, event: Event, text: str, markup: InlineKeyboardMarkup | None,
               *, new: bool) -> tuple[int, int]:
    """Show the screen; returns where it is now."""
    if isinstance(event, OpenMenu):
        chat_id = event.chat_id
        try:
            await ctx.bot.edit_message_text(text=text, chat_id=chat_id,
                                            message_id=event.message_id, reply_markup=markup)
            return chat_id, event.message_id
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return chat_id, event.message_id
            log.info("open menu not edited (%s); sending a new one", exc.message)
    elif isinstance(event, Message):
        chat_id = event.chat.id
    else:
        message = event.message
        assert message is not None
        chat_id = message.chat.id
        if not new and isinstance(message, Message):
            try:
                await message.edit_text(text, reply_markup=markup)
                return chat_id, message.message_id
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return chat_id, message.message_id
                log.info("buy screen not edited (%s); sending a new one", exc.message)
    sent = await ctx.bot.send_message(chat_id, text, reply_markup=markup)
    return chat_id, sent.message_id


async def _remember(ctx: BuyContext, chat_id: int, message_id: int, is_menu: bool,
                    menu: str) -> None:
    """Keep the user's open menu up to date: one live menu per private chat."""
    user = ctx.db_user
    if user is None or chat_id != user.id:
        return
    if is_menu:
        await ctx.users.set_menu(user, message_id, menu)
    elif user.menu_message_id == message_id:  # buying, bought, an error: no menu any more
        await ctx.users.set_menu(user, None, None)


async def _loading(ctx: BuyContext, event: Event, *, new: bool = False) -> Event:
    """Say "Loading…" at once where the next screen will be, before a provider read that may
    take a while; the screen then replaces it. A typed message gets a message of its own."""
    if isinstance(event, CallbackQuery) and not new:
        message = event.message
        if isinstance(message, Message):
            with suppress(TelegramBadRequest):  # not modified: it says so already
                await message.edit_text(ctx.t("buy.loading"))
            return event
    chat_id, message_id = await _put(ctx, event, ctx.t("buy.loading"), None, new=new)
    return OpenMenu(chat_id, message_id, menus.OTHER)


async def _owner_checked(ctx: BuyContext, query: CallbackQuery, o: int) -> bool:
    if o != query.from_user.id:
        await query.answer(ctx.t("common.not_yours"), show_alert=True)
        return False
    return True


async def _api_key(ctx: BuyContext, event: Event, o: int, *, new: bool = False) -> str | None:
    """The key that pays here; without one, the screen says how to set it."""
    account = await ctx.accounts.current(ctx.owner_id)
    key = ctx.accounts.usable_key(account)
    if key is None:
        await show(ctx, event, ctx.t("common.no_key" if account is None else "common.bad_key"),
                   kb.no_key(ctx.t, o), new=new)
    return key


async def _currency(ctx: BuyContext) -> int | None:
    """The paying account's currency, once a purchase has named it (price lists never do)."""
    account = await ctx.accounts.current(ctx.owner_id)
    return account.currency if account is not None else None


async def _offers(ctx: BuyContext, event: Event, o: int, svc: str, key: str,
                  retry: ServiceCb | CountryCb | BuyCb | ProviderCb, *,
                  fresh: bool = False, new: bool = False,
                  back: CountryCb | None = None) -> list[CountryOffer] | None:
    """Live offers, or None after showing why they could not be loaded (with Try again,
    and Back to `back`: the screen the person came from, the services unless told)."""
    back_to: ServiceCb | CountryCb = back or ServiceCb(action="page", o=o)
    try:
        return await ctx.prices.offers(key, svc, fresh=fresh)
    except BadService:
        return []  # the provider does not know the service: nothing in stock
    except BadKey:
        await show(ctx, event, ctx.t("common.bad_key"), kb.no_key(ctx.t, o), new=new)
    except TransientError:
        await show(ctx, event, ctx.t("buy.prices_failed"), kb.retry_back(ctx.t, retry, back_to),
                   new=new)
    except KoalaError as exc:
        await show(ctx, event, ctx.t("common.provider_error", text=exc.text),
                   kb.retry_back(ctx.t, retry, back_to), new=new)
    return None


# --- service menu and search ---------------------------------------------------------


async def _menu_entries(ctx: BuyContext, user_id: int) -> list[kb.ServiceEntry]:
    entries: list[kb.ServiceEntry] = []
    seen: set[str] = set()
    favourites = await ctx.users.favourites(user_id)
    recent = await ctx.activations.recent_services(user_id)
    for codes, mark in ((favourites, "fav"), (recent, "recent"), (ctx.catalog.popular(), "")):
        for code in codes:
            if code not in seen:
                seen.add(code)
                entries.append(kb.ServiceEntry(code, mark))
    return entries


async def service_menu(ctx: BuyContext, event: Event, o: int, page: int = 0, *,
                       new: bool = False) -> None:
    if await _api_key(ctx, event, o) is None:
        return
    entries = await _menu_entries(ctx, o)
    await show(ctx, event, ctx.t("buy.menu"),
               kb.service_menu(ctx.t, ctx.catalog, o, entries, page), new=new,
               menu=menus.SERVICES)


async def search_results(ctx: BuyContext, event: Event, o: int, q: str, page: int = 0) -> None:
    codes = ctx.catalog.search_services(q, lang=ctx.t.lang)
    if not codes:
        await show(ctx, event, ctx.t("buy.nothing_found", q=q), kb.nothing_found(ctx.t, o),
                   menu=menus.SERVICES)
        return
    favourites = set(await ctx.users.favourites(o))
    entries = [kb.ServiceEntry(c, "fav" if c in favourites else "") for c in codes]
    await show(ctx, event, ctx.t("buy.search_results", q=q),
               kb.service_menu(ctx.t, ctx.catalog, o, entries, page, q=q),
               menu=menus.SERVICES)


@router.message(Command("buy"))
async def cmd_buy(message: Message, ctx: BuyContext) -> None:
    assert message.from_user is not None
    await ctx.state.clear()
    await service_menu(ctx, message, message.from_user.id)


@router.callback_query(ServiceCb.filter())
async def on_service(query: CallbackQuery, callback_data: ServiceCb, ctx: BuyContext) -> None:
    cb = callback_data
    if not await _owner_checked(ctx, query, cb.o):
        return
    if cb.action == "hint":
        await query.answer(ctx.t("buy.search_hint"), show_alert=True)
        return
    if cb.action == "noop":
        await query.answer()
        return
    await query.answer()
    if cb.action == "close":
        await ctx.state.clear()
        message = query.message
        if isinstance(message, Message):
            try:
                await message.delete()
            except TelegramAPIError:  # too old to delete: at least drop the buttons
                await message.edit_reply_markup(reply_markup=None)
        return
    if cb.action == "pick" and cb.svc:
        await countries(ctx, query, cb.o, cb.svc)
        return
    await ctx.state.clear()
    if cb.action == "search" and cb.q:
        await search_results(ctx, query, cb.o, cb.q, cb.page)
        return
    # "page", also the "🛒 Buy" button of other areas: their message is left as it is.
    message = query.message
    new = not (isinstance(message, Message) and _is_buy_screen(message))
    await service_menu(ctx, query, cb.o, cb.page, new=new)


@router.message(StateFilter(None, BuyStates.country), F.text, ~F.text.startswith("/"))
async def typed_text(message: Message, ctx: BuyContext) -> None:
    """Typed text edits the open menu: a country menu filters its countries, any other
    screen becomes the services matching it. With no open menu, the answer is new."""
    assert message.from_user is not None
    assert message.text is not None
    o = message.from_user.id
    text = message.text.strip()[:64]
    await ctx.state.clear()
    menu = menus.open_menu(ctx.db_user)
    if menu is not None and menu.country_menu is not None:
        svc, sort = menu.country_menu
        await countries(ctx, menu, o, svc, sort=sort, q=text)
        return
    target: Event = menu or message
    if await _api_key(ctx, target, o) is None:
        return
    await search_results(ctx, target, o, text)


# --- countries -----------------------------------------------------------------------


async def countries(ctx: BuyContext, event: Event, o: int, svc: str, *, page: int = 0,
                    sort: str = "p", q: str = "", fresh: bool = False,
                    new: bool = False) -> None:
    key = await _api_key(ctx, event, o, new=new)
    if key is None:
        return
    retry = CountryCb(action="page", o=o, svc=svc, page=page, sort=sort,
                      q=kb.fit_query(lambda s: CountryCb(action="page", o=o, svc=svc,
                                                         page=page, sort=sort, q=s), q))
    if fresh or not ctx.prices.cached(svc):
        event = await _loading(ctx, event, new=new)
    offers = await _offers(ctx, event, o, svc, key, retry, fresh=fresh, new=new)
    if offers is None:
        return
    t = ctx.t
    name = ctx.catalog.service_name(svc, t.lang)
    here = menus.countries_kind(svc, sort)  # typed text filters these countries
    stocked = px.in_stock(offers)
    if not stocked:
        await show(ctx, event, t("buy.no_stock", service=name),
                   kb.retry_back(t, retry, ServiceCb(action="page", o=o)), new=new)
        return
    ordered = px.by_stock(stocked) if sort == "s" else px.by_price(stocked)
    if q:
        items = [offer for offer in ordered if ctx.catalog.country_matches(offer.country, q)]
        if not items:
            await show(ctx, event, t("buy.no_country_match", service=name, q=q),
                       kb.no_country_match(t, o, svc, q), new=new, menu=here)
            return
        text = t("buy.countries_filtered", service=name, q=q)
    else:
        default = ctx.db_user.default_country if ctx.db_user is not None else None
        pinned = [offer for offer in ordered if offer.country == default]
        any_offer = px.find(offers, ANY_COUNTRY)
        items = ([any_offer] if any_offer else []) + pinned + [
            offer for offer in ordered if offer.country != default]
        text = t("buy.countries", service=name, count=len(stocked))
    favourite = svc in await ctx.users.favourites(o)
    await show(ctx, event, text, kb.country_menu(t, ctx.catalog, o, svc, items, page, sort=sort,
                                                 q=q, favourite=favourite,
                                                 currency=await _currency(ctx)), new=new,
               menu=here)


@router.callback_query(CountryCb.filter())
async def on_country(query: CallbackQuery, callback_data: CountryCb, ctx: BuyContext) -> None:
    cb = callback_data
    if not await _owner_checked(ctx, query, cb.o):
        return
    if cb.action == "noop":
        await query.answer()
        return
    if cb.action == "fav":
        added = await ctx.users.toggle_favourite(cb.o, cb.svc)
        await query.answer(ctx.t("buy.fav_added" if added else "buy.fav_removed"))
        await countries(ctx, query, cb.o, cb.svc, page=cb.page, sort=cb.sort, q=cb.q)
        return
    await query.answer()
    if cb.action == "pick":
        await pick_country(ctx, query, cb.o, cb.svc, cb.country)
        return
    page = 0 if cb.action == "sort" else cb.page
    await countries(ctx, query, cb.o, cb.svc, page=page, sort=cb.sort, q=cb.q)


async def pick_country(ctx: BuyContext, event: Event, o: int, svc: str, country: int) -> None:
    key = await _api_key(ctx, event, o)
    if key is None:
        return
    if not ctx.prices.cached(svc):
        event = await _loading(ctx, event)
    offers = await _offers(ctx, event, o, svc, key,
                           CountryCb(action="pick", o=o, svc=svc, country=country),
                           back=kb.to_countries(o, svc))
    if offers is None:
        return
    offer = px.find(offers, country)
    if offer is None or offer.count <= 0:
        await no_numbers(ctx, event, o, svc, country, key)
        return
    providers = px.stocked_providers(offer) if country != ANY_COUNTRY else []
    if len(providers) > 1:
        t = ctx.t
        await show(ctx, event, t("buy.providers", service=ctx.catalog.service_name(svc, t.lang),
                                 country=ctx.catalog.country_label(country, t.lang)),
                   kb.provider_menu(t, o, svc, country, offer.price, providers,
                                    await _currency(ctx)))
        return
    await confirm(ctx, event, o, svc, country, 0, key=key, offers=offers)


# --- provider picker and confirm -----------------------------------------------------


@router.callback_query(ProviderCb.filter())
async def on_provider(query: CallbackQuery, callback_data: ProviderCb, ctx: BuyContext) -> None:
    cb = callback_data
    if not await _owner_checked(ctx, query, cb.o):
        return
    await query.answer()
    await confirm(ctx, query, cb.o, cb.svc, cb.country, cb.provider)


async def confirm(ctx: BuyContext, event: Event, o: int, svc: str, country: int,
                  provider: int, *, key: str | None = None,
                  offers: list[CountryOffer] | None = None, new: bool = False) -> None:
    """The confirm screen, with the current price; out of stock: where there is stock."""
    if key is None:
        key = await _api_key(ctx, event, o)
        if key is None:
            return
    event = await _loading(ctx, event, new=new)  # the balance is always asked for
    new = False
    if offers is None:
        offers = await _offers(ctx, event, o, svc, key, kb.show_confirm(o, svc, country, provider),
                               back=kb.to_countries(o, svc))
        if offers is None:
            return
    offer = px.find(offers, country)
    priced = px.price_of(offer, provider) if offer is not None else None
    if priced is None and offer is not None and provider:
        provider, priced = 0, px.price_of(offer, 0)  # that supplier sold out: any will do
    if priced is None:
        await no_numbers(ctx, event, o, svc, country, key, offers=offers, new=new)
        return
    price = priced[0]
    t = ctx.t
    lines = [t("buy.confirm", service=ctx.catalog.service_name(svc, t.lang),
               country=ctx.catalog.country_label(country, t.lang))]
    if provider:
        lines.append(t("buy.confirm_provider", id=provider))
    currency = await _currency(ctx)
    lines.append(t("buy.confirm_price", price=money(price, currency)))
    balance = await _balance(ctx, key)
    if balance is not None:
        if balance >= price:
            lines.append(t("buy.balance_after", balance=money(balance - price, currency)))
        else:
            lines.append(t("buy.balance_short", balance=money(balance, currency)))
    # Back goes where the person came from: the supplier picker when it was on the way.
    picker = country != ANY_COUNTRY and offer is not None and len(
        px.stocked_providers(offer)) > 1
    back = CountryCb(action="pick", o=o, svc=svc, country=country) if picker else None
    await show(ctx, event, "\n".join(lines),
               kb.confirm(t, o, svc, country, price, provider, currency=currency, back=back))


async def _balance(ctx: BuyContext, key: str) -> float | None:
    try:
        return await ctx.koala.get_balance(key)
    except KoalaError as exc:  # the screen works without it
        log.info("balance not shown: %s", exc.text)
        return None


async def no_numbers(ctx: BuyContext, event: Event, o: int, svc: str, country: int, key: str,
                     *, offers: list[CountryOffer] | None = None, new: bool = False) -> None:
    """Sold out here: the cheapest countries that still have numbers."""
    if offers is None:
        event = await _loading(ctx, event, new=new)
        new = False
        try:
            offers = await ctx.prices.offers(key, svc, fresh=True)
        except KoalaError:
            offers = []
    t = ctx.t
    name = ctx.catalog.service_name(svc, t.lang)
    where = ctx.catalog.country_label(country, t.lang)
    others = [] if country == ANY_COUNTRY else [
        offer for offer in px.by_price(px.in_stock(offers)) if offer.country != country]
    if not others:
        await show(ctx, event, t("buy.no_numbers_none", service=name, country=where),
                   kb.retry_back(t, kb.show_confirm(o, svc, country),
                                 ServiceCb(action="page", o=o)), new=new)
        return
    await show(ctx, event, t("buy.no_numbers", service=name, country=where),
               kb.alternatives(t, ctx.catalog, o, svc, others[:kb.ALTERNATIVES],
                               await _currency(ctx)), new=new)


# --- buying --------------------------------------------------------------------------


@router.callback_query(BuyCb.filter())
async def on_buy(query: CallbackQuery, callback_data: BuyCb, ctx: BuyContext) -> None:
    cb = callback_data
    if not await _owner_checked(ctx, query, cb.o):
        return
    if cb.action == "ok":
        await buy(ctx, query, cb)
        return
    await query.answer()
    if cb.action == "back":
        await countries(ctx, query, cb.o, cb.svc)
        return
    await confirm(ctx, query, cb.o, cb.svc, cb.country, cb.provider)


async def buy(ctx: BuyContext, query: CallbackQuery, cb: BuyCb) -> None:
    """Buy once. A second tap is refused while the first is in flight (busy) and after
    it bought (done); the confirm buttons are removed before the provider is called."""
    message = query.message
    assert message is not None
    guard, t = ctx.guard, ctx.t
    spot = (message.chat.id, message.message_id)
    if cb.o in guard.busy:
        await query.answer(t("buy.already_buying"))
        return
    if spot in guard.done:
        await query.answer(t("buy.already_bought"))
        return
    try:
        max_price = float(cb.price)
    except ValueError:  # never buy without the price the person agreed to
        await query.answer()
        await confirm(ctx, query, cb.o, cb.svc, cb.country, cb.provider)
        return
    guard.busy.add(cb.o)  # before any await: a concurrent tap must see it
    try:
        # A purchase whose outcome is still being checked blocks this menu and this
        # service in the chat: a second one could charge twice (it survives restarts).
        intents = IntentRepo(ctx.accounts.session)
        if await intents.blocking(message.chat.id, cb.svc, message.message_id) is not None:
            await query.answer(t("buy.still_checking"), show_alert=True)
            return
        last = await intents.last_on_message(message.chat.id, message.message_id)
        if last is not None and last.state == INTENT_ADOPTED:  # also true after a restart
            await query.answer(t("buy.already_bought"))
            return
        account = await ctx.accounts.current(ctx.owner_id)
        if ctx.accounts.usable_key(account) is None:
            await query.answer()
            await show(ctx, query, t("common.no_key" if account is None else "common.bad_key"),
                       kb.no_key(t, cb.o))
            return
        assert account is not None
        name = ctx.catalog.service_name(cb.svc, t.lang)
        where = ctx.catalog.country_label(cb.country, t.lang)
        await show(ctx, query, t("buy.buying", service=name, country=where,
                                 price=money(max_price, account.currency)))
        await query.answer()
        try:
            activation = await ctx.manager.purchase(
                account=account, chat_id=message.chat.id, buyer_id=query.from_user.id,
                service=cb.svc, country=None if cb.country == ANY_COUNTRY else cb.country,
                max_price=max_price, provider_id=cb.provider or None,
                menu_message_id=message.message_id)
        except KoalaError as exc:
            if isinstance(exc, PurchaseLost) and not isinstance(exc, PurchasePending):
                guard.mark_done(*spot)  # a number may exist: never re-buy from here
            # PurchasePending: the open intent blocks this menu until it is settled.
            await purchase_failed(ctx, query, cb, exc, ctx.manager.api_key(account))
            return
        guard.mark_done(*spot)
        ctx.prices.invalidate(cb.svc)  # the stock changed
        try:
            await show(ctx, query, t("buy.bought"))
        except TelegramAPIError as exc:
            # E.g. a long 429: the card below is what matters, it must still be sent.
            log.info("'bought' not shown on the menu: %s", exc)
        await ctx.manager.send_card(activation)
    finally:
        guard.busy.discard(cb.o)


async def purchase_failed(ctx: BuyContext, query: CallbackQuery, cb: BuyCb, exc: KoalaError,
                          key: str) -> None:
    t, o, svc, country = ctx.t, cb.o, cb.svc, cb.country
    back = kb.to_countries(o, svc)
    retry = kb.show_confirm(o, svc, country, cb.provider)
    name = ctx.catalog.service_name(svc, t.lang)
    where = ctx.catalog.country_label(country, t.lang)
    currency = await _currency(ctx)
    if isinstance(exc, WrongMaxPrice | NoNumbers | TransientError):
        ctx.prices.invalidate(svc)  # what the menus showed is out of date
    if isinstance(exc, PurchasePending):
        # Not a failure: the settler (bot/intents.py) keeps looking and edits this message.
        log.warning("purchase of %s outcome unknown, checking: %s", svc, exc.text)
        await show(ctx, query, t("buy.checking", service=name))
    elif isinstance(exc, PurchaseLost):
        log.warning("purchase of %s outcome unknown: %s", svc, exc.text)
        await show(ctx, query, t("buy.lost"), kb.other_service(t, o))
    elif isinstance(exc, TransientError):
        await show(ctx, query, t("buy.transient"), kb.retry_back(t, retry, back))
    elif isinstance(exc, WrongMaxPrice):
        if exc.min_price is None:
            await confirm(ctx, query, o, svc, country, cb.provider, key=key)
            return
        await show(ctx, query, t("buy.price_rose", service=name, country=where,
                                 price=money(exc.min_price, currency)),
                   kb.confirm(t, o, svc, country, exc.min_price, cb.provider,
                              key="buy.btn.buy_at", currency=currency))
    elif isinstance(exc, NoNumbers):
        await no_numbers(ctx, query, o, svc, country, key)
    elif isinstance(exc, NoBalance):
        balance = await _balance(ctx, key)
        price = money(float(cb.price), currency) if cb.price else "?"
        text = (t("buy.no_balance", balance=money(balance, currency), price=price)
                if balance is not None
                else t("buy.no_balance_unknown", price=price))
        await show(ctx, query, text, kb.retry_back(t, retry, back))
    elif isinstance(exc, BadKey):
        await show(ctx, query, t("common.bad_key"), kb.bad_key(t, o))
    elif isinstance(exc, ServiceProhibited | BadService):
        await show(ctx, query, t("buy.prohibited", service=name), kb.other_service(t, o))
    elif isinstance(exc, ServiceUnavailableRegion):
        await show(ctx, query, t("common.region"), kb.back_only(t, back))
    elif isinstance(exc, Banned):
        await show(ctx, query, t("common.banned", until=exc.until or "?"), kb.back_only(t, back))
    else:
        await show(ctx, query, t("common.provider_error", text=exc.text),
                   kb.retry_back(t, retry, back))


# --- "Buy again" on a finished card --------------------------------------------------


@router.callback_query(ActCb.filter(F.action == "again"))
async def on_buy_again(query: CallbackQuery, callback_data: ActCb, ctx: BuyContext) -> None:
    a = await ctx.activations.get(callback_data.id)
    message = query.message
    if a is None:
        await query.answer(ctx.t("act.not_found"), show_alert=True)
        return
    if (message is None or a.buyer_id != query.from_user.id
            or a.chat_id != message.chat.id):
        await query.answer(ctx.t("common.not_yours"), show_alert=True)
        return
    await query.answer()
    o = query.from_user.id
    key = await _api_key(ctx, query, o, new=True)
    if key is None:
        return
    # The card stays as it is: the next screens are a message of their own.
    screen = await _loading(ctx, query, new=True)
    country = a.country if a.country is not None else ANY_COUNTRY
    offers = await _offers(ctx, screen, o, a.service, key,
                           kb.show_confirm(o, a.service, country))
    if offers is None:
        return
    offer = px.find(offers, country)
    if offer is None or offer.count <= 0:
        await countries(ctx, screen, o, a.service)
        return
    await confirm(ctx, screen, o, a.service, country, 0, key=key, offers=offers)


# --- "which of these numbers is yours?" after a lost purchase answer -----------------


@router.callback_query(IntentCb.filter())
async def on_intent(query: CallbackQuery, callback_data: IntentCb, ctx: BuyContext) -> None:
    cb, t = callback_data, ctx.t
    intent = await IntentRepo(ctx.accounts.session).get(cb.id)
    message = query.message
    if intent is None or message is None:
        await query.answer(t("buy.intent_gone"), show_alert=True)
        return
    if intent.buyer_id != query.from_user.id or intent.chat_id != message.chat.id:
        await query.answer(t("common.not_yours"), show_alert=True)
        return
    settler = ctx.manager.intents
    if cb.action == "none":
        await query.answer()
        if await settler.decline(cb.id):
            await show(ctx, query, t("buy.intent_declined",
                                     service=ctx.catalog.service_name(intent.service, t.lang)),
                       kb.other_service(t, intent.buyer_id))
        return
    activation = await settler.pick(cb.id, cb.aid)
    if activation is None:
        await query.answer(t("buy.intent_gone"), show_alert=True)
        return
    await query.answer()
    ctx.prices.invalidate(intent.service)
