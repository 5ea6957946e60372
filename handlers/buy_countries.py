"""A service's countries with live prices (sort, filter, favourite), picking a country,
and the supplier picker."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.services.catalogue import (
    CatalogueService,
    GoConfirm,
    NoCountryMatch,
    NoStock,
    OffersFailed,
    SoldOut,
    SupplierChoice,
)
from bot.services.purchase import PurchaseService
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from bot.ui.callbacks import BuyAction, BuyCb, CountryAction, CountryCb, ProviderCb
from handlers import menus
from handlers.buy_confirm import confirm, no_numbers
from handlers.buy_screens import EARLY, SELF, Buy, Event, loading, offers_failed, paying_key, show


async def countries(ctx: Buy, event: Event, svc: str, *, page: int = 0, sort: str = "p",
                    q: str = "", fresh: bool = False, new: bool = False) -> None:
    found = await paying_key(ctx, event, new=new)
    if found is None:
        return
    paying, key = found
    owner, t = ctx.user_id, ctx.t
    retry = CountryCb(action=CountryAction.PAGE, owner=owner, svc=svc, page=page, sort=sort,
                      q=kb.fit_query(lambda s: CountryCb(action=CountryAction.PAGE, owner=owner,
                                                         svc=svc, page=page, sort=sort, q=s),
                                     q))
    if fresh or not ctx.catalogue.cached(svc):
        event = await loading(ctx, event, new=new)
    listed = await ctx.catalogue.countries(owner, paying, key, svc, sort=sort, q=q,
                                           fresh=fresh)
    name = ctx.catalog.service_name(svc, t.lang)
    here = menus.countries_kind(svc, sort)  # typed text filters these countries
    if isinstance(listed, OffersFailed):
        await offers_failed(ctx, event, listed, retry, new=new)
    elif isinstance(listed, NoStock):
        await show(ctx, event, t("buy.no_stock", service=name),
                   kb.retry_back(t, retry, kb.services_page(owner)), new=new)
    elif isinstance(listed, NoCountryMatch):
        await show(ctx, event, t("buy.no_country_match", service=name, q=q),
                   kb.no_country_match(t, owner, svc, q), new=new, menu=here)
    else:
        text = (t("buy.countries_filtered", service=name, q=q) if q
                else t("buy.countries", service=name, count=listed.stocked))
        await show(ctx, event, text,
                   kb.country_menu(t, ctx.catalog, owner, svc, listed.items, page, sort=sort,
                                   q=q, favourite=listed.favourite, currency=listed.currency,
                                   anywhere=listed.anywhere),
                   new=new, menu=here)


async def pick_country(ctx: Buy, event: Event, svc: str, country: int | None) -> None:
    found = await paying_key(ctx, event)
    if found is None:
        return
    paying, key = found
    owner, t = ctx.user_id, ctx.t
    if not ctx.catalogue.cached(svc):
        event = await loading(ctx, event)
    picked = await ctx.catalogue.pick_country(paying, key, svc, country)
    if isinstance(picked, OffersFailed):
        await offers_failed(ctx, event, picked,
                            CountryCb(action=CountryAction.PICK, owner=owner, svc=svc,
                                      country=country),
                            kb.to_countries(owner, svc))
    elif isinstance(picked, SoldOut):
        await no_numbers(ctx, event, svc, country, paying, key)
    elif isinstance(picked, SupplierChoice):
        assert country is not None  # the picker is only for a named country
        await show(ctx, event, t("buy.providers", service=ctx.catalog.service_name(svc, t.lang),
                                 country=ctx.catalog.country_label(country, t.lang)),
                   kb.provider_menu(t, owner, svc, country, picked.cheapest, picked.providers,
                                    picked.currency))
    elif isinstance(picked, GoConfirm):
        await confirm(ctx, event, svc, country, 0, found=found, offers=picked.offers)


def make_router() -> Router:
    router = Router(name="buy_countries")

    @router.callback_query(CountryCb.filter(F.action == CountryAction.NOOP), flags=EARLY)
    async def on_noop(query: CallbackQuery) -> None:
        """The page counter: nothing to do (the press is answered)."""

    @router.callback_query(CountryCb.filter(F.action == CountryAction.FAV), flags=SELF)
    async def on_favourite(query: CallbackQuery, callback_data: CountryCb, t: Translator,
                           bot: Bot, catalogue: CatalogueService, purchase: PurchaseService,
                           owner_id: int) -> None:
        cb = callback_data
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        added = await catalogue.toggle_favourite(ctx.user_id, cb.svc)
        # The toast comes at once (answered by hand): the menu may take a provider read.
        await query.answer(t("buy.fav_added" if added else "buy.fav_removed"))
        await countries(ctx, query, cb.svc, page=cb.page, sort=cb.sort, q=cb.q)

    @router.callback_query(CountryCb.filter(F.action == CountryAction.PICK), flags=EARLY)
    async def on_pick(query: CallbackQuery, callback_data: CountryCb, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await pick_country(ctx, query, callback_data.svc, callback_data.country)

    @router.callback_query(CountryCb.filter(F.action == CountryAction.SORT), flags=EARLY)
    async def on_sort(query: CallbackQuery, callback_data: CountryCb, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        cb = callback_data
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await countries(ctx, query, cb.svc, sort=cb.sort, q=cb.q)

    @router.callback_query(CountryCb.filter(F.action == CountryAction.PAGE), flags=EARLY)
    async def on_page(query: CallbackQuery, callback_data: CountryCb, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        cb = callback_data
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await countries(ctx, query, cb.svc, page=cb.page, sort=cb.sort, q=cb.q)

    @router.callback_query(BuyCb.filter(F.action == BuyAction.BACK), flags=EARLY)
    async def on_back(query: CallbackQuery, callback_data: BuyCb, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await countries(ctx, query, callback_data.svc)

    @router.callback_query(ProviderCb.filter(), flags=EARLY)
    async def on_provider(query: CallbackQuery, callback_data: ProviderCb, t: Translator,
                          bot: Bot, catalogue: CatalogueService, purchase: PurchaseService,
                          owner_id: int) -> None:
        cb = callback_data
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await confirm(ctx, query, cb.svc, cb.country, cb.provider)

    return router
