"""The confirm screen (current price, supplier, balance after purchase) and "sold out
here" with the cheapest countries that still have numbers."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.money import money
from bot.services.catalogue import (
    CatalogueService,
    CountryOffer,
    OffersFailed,
    PayingKey,
    SoldOut,
)
from bot.services.purchase import PurchaseService
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from bot.ui.callbacks import BuyAction, BuyCb, CountryAction, CountryCb
from handlers.buy_screens import EARLY, Buy, Event, loading, offers_failed, paying_key, show


async def confirm(ctx: Buy, event: Event, svc: str, country: int | None, provider: int, *,
                  found: tuple[PayingKey, str] | None = None,
                  offers: list[CountryOffer] | None = None, new: bool = False) -> None:
    """The confirm screen, with the current price; out of stock: where there is stock."""
    if found is None:
        found = await paying_key(ctx, event)
        if found is None:
            return
    paying, key = found
    owner, t = ctx.user_id, ctx.t
    event = await loading(ctx, event, new=new)  # the balance is always asked for
    data = await ctx.purchase.confirm(paying, key, svc, country, provider, offers=offers)
    if isinstance(data, OffersFailed):
        await offers_failed(ctx, event, data, kb.show_confirm(owner, svc, country, provider),
                            kb.to_countries(owner, svc))
        return
    if isinstance(data, SoldOut):
        await no_numbers(ctx, event, svc, country, paying, key, offers=data.offers)
        return
    lines = [t("buy.confirm", service=ctx.catalog.service_name(svc, t.lang),
               country=ctx.catalog.country_label(country, t.lang))]
    if data.provider:
        lines.append(t("buy.confirm_provider", id=data.provider))
    lines.append(t("buy.confirm_price", price=money(data.price, data.currency)))
    if data.balance is not None:
        if data.balance >= data.price:
            lines.append(t("buy.balance_after",
                           balance=money(data.balance - data.price, data.currency)))
        else:
            lines.append(t("buy.balance_short", balance=money(data.balance, data.currency)))
    # Back goes where the person came from: the supplier picker when it was on the way.
    back = (CountryCb(action=CountryAction.PICK, owner=owner, svc=svc, country=country)
            if data.via_picker else None)
    await show(ctx, event, "\n".join(lines),
               kb.confirm(t, owner, svc, country, data.price, data.provider,
                          currency=data.currency, back=back))


async def no_numbers(ctx: Buy, event: Event, svc: str, country: int | None,
                     paying: PayingKey, key: str, *,
                     offers: list[CountryOffer] | None = None, new: bool = False) -> None:
    """Sold out here: the cheapest countries that still have numbers."""
    if offers is None:
        event = await loading(ctx, event, new=new)
        new = False
    t, owner = ctx.t, ctx.user_id
    found = await ctx.catalogue.alternatives(paying, key, svc, country, offers=offers)
    name = ctx.catalog.service_name(svc, t.lang)
    where = ctx.catalog.country_label(country, t.lang)
    if not found.offers:
        await show(ctx, event, t("buy.no_numbers_none", service=name, country=where),
                   kb.retry_back(t, kb.show_confirm(owner, svc, country),
                                 kb.services_page(owner)), new=new)
        return
    await show(ctx, event, t("buy.no_numbers", service=name, country=where),
               kb.alternatives(t, ctx.catalog, owner, svc, found.offers[:kb.ALTERNATIVES],
                               found.currency), new=new)


def make_router() -> Router:
    router = Router(name="buy_confirm")

    @router.callback_query(BuyCb.filter(F.action == BuyAction.SHOW), flags=EARLY)
    async def on_show(query: CallbackQuery, callback_data: BuyCb, t: Translator, bot: Bot,
                      catalogue: CatalogueService, purchase: PurchaseService,
                      owner_id: int) -> None:
        cb = callback_data
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await confirm(ctx, query, cb.svc, cb.country, cb.provider)

    return router
