"""Activation cards: /active and the Cancel / Another code / Complete buttons."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.limits import cut
from bot.money import money
from bot.services.activations import (
    ActionResult,
    ActivationRef,
    ActivationService,
    CardShown,
    Outcome,
    UserAction,
)
from bot.services.groups import GroupService
from bot.texts import Translator
from bot.ui import cards
from bot.ui.callbacks import ActAction, ActCb

# Entries in one /active message: each takes some 150 characters and a button, and a
# message holds 4096 characters.
MAX_LISTED = 20
REASON_LIMIT = 120  # characters of a provider's refusal quoted in a toast (limit: 200)

_ACTIONS = {ActAction.CANCEL: UserAction.CANCEL, ActAction.ANOTHER: UserAction.ANOTHER,
            ActAction.DONE: UserAction.COMPLETE}


async def may_act(groups: GroupService, activation: ActivationRef,
                  query: CallbackQuery) -> bool:
    """Only the buyer acts on a card; in a group, the group's admins too."""
    message = query.message
    if message is None or activation.chat_id != message.chat.id:
        return False
    if activation.buyer_id == query.from_user.id:
        return True
    if activation.chat_id > 0:
        return False
    return await groups.is_admin(activation.chat_id, query.from_user.id)


def _answer_text(result: ActionResult, price: str, t: Translator,
                 now: datetime) -> tuple[str, bool]:
    """Text for the callback answer, and whether it needs an alert."""
    match result.outcome:
        case Outcome.DONE:
            return "", False
        case Outcome.SCHEDULED:
            seconds = (result.cancel_at - now).total_seconds() if result.cancel_at else 0.0
            return t("act.cancel_scheduled_in", cancel_in=cards.countdown(seconds)), True
        case Outcome.HAS_CODE:
            return t("act.cancel_has_code"), True
        case Outcome.NO_CODE:
            return t("act.no_code_yet"), False
        case Outcome.UNAVAILABLE:
            return t("act.retry_unavailable"), True
        case Outcome.FINAL:
            return t("act.already_final"), False
        case Outcome.NOT_FOUND:
            return t("act.not_found"), True
        case Outcome.TRANSIENT:
            return t("act.transient"), True
        case Outcome.REFUSED:
            # The provider's words can be long: cut them so the toast keeps its ending.
            return t("act.failed", text=cut(result.text or price, REASON_LIMIT)), True
        case Outcome.GONE_COMPLETED:
            return t("act.gone_completed"), True
        case Outcome.UNKNOWN:
            return t("act.gone_unknown"), True
    return "", False


def _done_text(action: UserAction, price: str, t: Translator) -> str:
    if action is UserAction.CANCEL:
        return t("act.refunded", price=price)
    if action is UserAction.ANOTHER:
        return t("act.retry_ok")
    return t("act.completed")


def make_router() -> Router:
    router = Router(name="activations")

    @router.message(Command("active"))
    async def show_active(message: Message, t: Translator,
                          activations: ActivationService) -> None:
        assert message.from_user is not None
        buyer = message.from_user.id if message.chat.type == "private" else None
        running = (await activations.running(message.chat.id, buyer_id=buyer)).activations
        if not running:
            await message.answer(t("act.active_none"))
            return
        # One compact list, not a copy of every card: copies would go stale as the state
        # moves on. An entry's button brings that card down here (see show_card).
        now, catalog = activations.now(), activations.catalog
        listed = list(running[:MAX_LISTED])  # oldest first: they end soonest
        lines = [t("act.active_header", count=len(running))]
        lines += [cards.list_entry(n, row, t, catalog, now) for n, row in enumerate(listed, 1)]
        if len(running) > len(listed):
            lines.append(t("act.list.more", count=len(running) - len(listed)))
        lines.append(t("act.list.hint"))
        await message.answer("\n\n".join(lines),
                             reply_markup=cards.list_markup(listed, t, catalog))

    @router.callback_query(ActCb.filter(F.action == ActAction.SHOW))
    async def show_card(query: CallbackQuery, callback_data: ActCb, t: Translator,
                        activations: ActivationService, callback_answer: CallbackAnswer) -> None:
        chat_id = query.message.chat.id if query.message is not None else 0
        shown = await activations.show_card(callback_data.id, chat_id)
        if shown is CardShown.NOT_FOUND:
            callback_answer.text, callback_answer.show_alert = t("act.not_found"), True
        elif shown is CardShown.OVER:
            callback_answer.text = t("act.shown_over")

    @router.callback_query(ActCb.filter(F.action == ActAction.CANCEL))
    @router.callback_query(ActCb.filter(F.action == ActAction.ANOTHER))
    @router.callback_query(ActCb.filter(F.action == ActAction.DONE))
    async def act(query: CallbackQuery, callback_data: ActCb, groups: GroupService,
                  t: Translator,
                  activations: ActivationService, callback_answer: CallbackAnswer) -> None:
        found = await activations.ref(callback_data.id)
        if found is None:
            callback_answer.text, callback_answer.show_alert = t("act.not_found"), True
            return
        if not await may_act(groups, found, query):
            key = "common.not_yours" if found.chat_id > 0 else "group_buy.not_your_number"
            callback_answer.text, callback_answer.show_alert = t(key), True
            return
        action = _ACTIONS[callback_data.action]
        price = money(found.cost, found.currency)
        result = await activations.act(action, found.id)
        text, alert = _answer_text(result, price, t, activations.now())
        callback_answer.text = text or _done_text(action, price, t)
        callback_answer.show_alert = alert

    return router
