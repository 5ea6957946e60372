"""Buying once from the confirm screen, a way forward from every refusal, "Buy again" on
a finished card, and the answer to "which of these numbers is yours?"."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.money import money
from bot.services.catalogue import CatalogueService, OffersFailed
from bot.services.purchase import Failed, Failure, PurchaseService, Ready, Refusal
from bot.texts import Translator
from bot.ui import keyboards_buy as kb
from bot.ui.callbacks import ActCb, BuyAction, BuyCb, IntentAction, IntentCb
from bot.ui.group_rules import refusal_text
from handlers.buy_confirm import confirm, no_numbers
from handlers.buy_countries import countries
from handlers.buy_screens import (
    LATE,
    SELF,
    Buy,
    loading,
    offers_failed,
    paying_key,
    show,
    thread_of,
)

log = logging.getLogger(__name__)

_TOASTS = {Refusal.BUSY: "buy.already_buying", Refusal.DONE: "buy.already_bought"}


async def buy(ctx: Buy, query: CallbackQuery, cb: BuyCb) -> None:
    """Buy once. A second tap is refused while the first is in flight and after it bought;
    the confirm buttons are removed before the provider is called."""
    message = query.message
    assert message is not None
    t, chat_id, message_id = ctx.t, message.chat.id, message.message_id
    refusal = ctx.purchase.claim(cb.owner, chat_id, message_id)
    if refusal is not None:
        await query.answer(t(_TOASTS[refusal]))
        return
    try:
        try:
            max_price = float(cb.price)
        except ValueError:  # never buy without the price the person agreed to
            await query.answer()
            await confirm(ctx, query, cb.svc, cb.country, cb.provider)
            return
        # tap: the press is recorded (unique per menu and button), so a double tap that
        # reached another instance buys nothing.
        ready = await ctx.purchase.ready(ctx.owner_id, chat_id, message_id, cb.svc,
                                         tap=query.data)
        if ready is Refusal.CHECKING:
            await query.answer(t("buy.still_checking"), show_alert=True)
            return
        if ready in _TOASTS:
            await query.answer(t(_TOASTS[Refusal(ready)]))
            return
        if not isinstance(ready, Ready):
            await query.answer()
            await show(ctx, query, t("common.no_key" if ready is Refusal.NO_KEY
                                     else "common.bad_key"), kb.no_key(t, cb.owner))
            return
        name = ctx.catalog.service_name(cb.svc, t.lang)
        where = ctx.catalog.country_label(cb.country, t.lang)
        await show(ctx, query, t("buy.buying", service=name, country=where,
                                 price=money(max_price, ready.currency)))
        await query.answer()
        outcome = await ctx.purchase.buy(
            ctx.owner_id, chat_id=chat_id, message_id=message_id,
            buyer_id=query.from_user.id, service=cb.svc, country=cb.country,
            max_price=max_price, provider=cb.provider, thread_id=thread_of(query))
        if isinstance(outcome, Failed):
            await purchase_failed(ctx, query, cb, outcome, ready)
            return
        try:
            await show(ctx, query, t("buy.bought"))
        except TelegramAPIError as exc:
            # E.g. a long 429: the card below is what matters, it must still be sent.
            log.info("'bought' not shown on the menu: %s", exc)
        await ctx.purchase.send_card(outcome)
    finally:
        ctx.purchase.release(cb.owner)


async def purchase_failed(ctx: Buy, query: CallbackQuery, cb: BuyCb, failed: Failed,
                          ready: Ready) -> None:
    t, owner, svc, country = ctx.t, cb.owner, cb.svc, cb.country
    back = kb.to_countries(owner, svc)
    retry = kb.show_confirm(owner, svc, country, cb.provider)
    name = ctx.catalog.service_name(svc, t.lang)
    where = ctx.catalog.country_label(country, t.lang)
    currency = ready.currency
    match failed.failure:
        case Failure.PENDING:  # not a failure: the settler keeps looking, edits this
            await show(ctx, query, t("buy.checking", service=name))
        case Failure.LOST:
            await show(ctx, query, t("buy.lost"), kb.other_service(t, owner))
        case Failure.TRANSIENT:
            await show(ctx, query, t("buy.transient"), kb.retry_back(t, retry, back))
        case Failure.PRICE_CHANGED:
            await confirm(ctx, query, svc, country, cb.provider)
        case Failure.PRICE_ROSE:
            assert failed.min_price is not None
            await show(ctx, query, t("buy.price_rose", service=name, country=where,
                                     price=money(failed.min_price, currency)),
                       kb.confirm(t, owner, svc, country, failed.min_price, cb.provider,
                                  key="buy.btn.buy_at", currency=currency))
        case Failure.NO_NUMBERS:
            paying = await ctx.catalogue.paying_key(ctx.owner_id)
            await no_numbers(ctx, query, svc, country, paying, ready.key)
        case Failure.NO_BALANCE:
            price = money(float(cb.price), currency) if cb.price else "?"
            text = (t("buy.no_balance", balance=money(failed.balance, currency), price=price)
                    if failed.balance is not None
                    else t("buy.no_balance_unknown", price=price))
            await show(ctx, query, text, kb.retry_back(t, retry, back))
        case Failure.BAD_KEY:
            await show(ctx, query, t("common.bad_key"), kb.bad_key(t, owner))
        case Failure.PROHIBITED:
            await show(ctx, query, t("buy.prohibited", service=name), kb.other_service(t, owner))
        case Failure.REGION:
            await show(ctx, query, t("common.region"), kb.back_only(t, back))
        case Failure.RULE:  # nothing was sent to the provider
            assert failed.refusal is not None
            cost = float(cb.price) if cb.price else 0.0
            await show(ctx, query, refusal_text(failed.refusal, t, cost, currency),
                       kb.back_only(t, back))
        case Failure.BANNED:
            await show(ctx, query, t("common.banned", until=failed.until or "?"),
                       kb.back_only(t, back))
        case _:
            await show(ctx, query, t("common.provider_error", text=failed.text),
                       kb.retry_back(t, retry, back))


def make_router() -> Router:
    router = Router(name="buy_purchase")

    @router.callback_query(BuyCb.filter(F.action == BuyAction.OK), flags=SELF)
    async def on_buy(query: CallbackQuery, callback_data: BuyCb, t: Translator, bot: Bot,
                     catalogue: CatalogueService, purchase: PurchaseService,
                     owner_id: int) -> None:
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        await buy(ctx, query, callback_data)

    @router.callback_query(ActCb.filter(F.action == "again"), flags=LATE)
    async def on_buy_again(query: CallbackQuery, callback_data: ActCb, t: Translator,
                           bot: Bot, catalogue: CatalogueService, purchase: PurchaseService,
                           owner_id: int, callback_answer: CallbackAnswer) -> None:
        past = await purchase.past_purchase(callback_data.id)
        message = query.message
        if past is None:
            callback_answer.text, callback_answer.show_alert = t("act.not_found"), True
            return
        if (message is None or past.buyer_id != query.from_user.id
                or past.chat_id != message.chat.id):
            callback_answer.text, callback_answer.show_alert = t("common.not_yours"), True
            return
        # Answered now: the next screens wait for the provider.
        await query.answer()
        callback_answer.disable()
        ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
        found = await paying_key(ctx, query, new=True)
        if found is None:
            return
        paying, key = found
        # The card stays as it is: the next screens are a message of their own.
        screen = await loading(ctx, query, new=True)
        owner, svc, country = ctx.user_id, past.service, past.country
        offers = await catalogue.offers(key, svc)
        if isinstance(offers, OffersFailed):
            await offers_failed(ctx, screen, offers, kb.show_confirm(owner, svc, country))
            return
        if not catalogue.in_stock(offers, country):
            await countries(ctx, screen, svc)
            return
        await confirm(ctx, screen, svc, country, 0, found=(paying, key), offers=offers)

    @router.callback_query(IntentCb.filter(), flags=LATE)
    async def on_intent(query: CallbackQuery, callback_data: IntentCb, t: Translator,
                        bot: Bot, catalogue: CatalogueService, purchase: PurchaseService,
                        owner_id: int, callback_answer: CallbackAnswer) -> None:
        cb = callback_data
        intent = await purchase.intent(cb.id)
        message = query.message
        if intent is None or message is None:
            callback_answer.text, callback_answer.show_alert = t("buy.intent_gone"), True
            return
        if intent.buyer_id != query.from_user.id or intent.chat_id != message.chat.id:
            callback_answer.text, callback_answer.show_alert = t("common.not_yours"), True
            return
        if cb.action is IntentAction.NONE:
            if await purchase.decline(cb.id):
                ctx = Buy(t, bot, catalogue, purchase, owner_id, query.from_user.id)
                await show(ctx, query, t("buy.intent_declined",
                                         service=ctx.catalog.service_name(intent.service,
                                                                          t.lang)),
                           kb.other_service(t, intent.buyer_id))
            return
        if not await purchase.pick(cb.id, cb.aid, intent.service):
            callback_answer.text, callback_answer.show_alert = t("buy.intent_gone"), True

    return router
