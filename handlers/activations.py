"""Activation cards: /active and the Cancel / Another code / Complete buttons."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.activations import ActivationManager, Outcome, Result
from bot.limits import cut
from bot.money import money
from bot.texts import Translator
from bot.ui import cards
from bot.ui.callbacks import ActCb
from storage.models import Activation, User
from storage.repo import ActivationRepo
from storage.states import ActivationState

router = Router(name="activations")

# Entries in one /active message: each takes some 150 characters and a button, and a
# message holds 4096 characters.
MAX_LISTED = 20
REASON_LIMIT = 120  # characters of a provider's refusal quoted in a toast (limit: 200)


@router.message(Command("active"))
async def show_active(message: Message, t: Translator, activations: ActivationRepo,
                      manager: ActivationManager) -> None:
    assert message.from_user is not None
    buyer = message.from_user.id if message.chat.type == "private" else None
    running = await activations.active_in_chat(message.chat.id, buyer_id=buyer)
    if not running:
        await message.answer(t("act.active_none"))
        return
    # One compact list, not a copy of every card: copies would go stale as the state
    # moves on. An entry's button brings that card down here (see show_card).
    now = manager.clock()
    listed = running[:MAX_LISTED]  # oldest first: they end soonest
    lines = [t("act.active_header", count=len(running))]
    lines += [cards.list_entry(n, a, t, manager.catalog, now) for n, a in enumerate(listed, 1)]
    if len(running) > len(listed):
        lines.append(t("act.list.more", count=len(running) - len(listed)))
    lines.append(t("act.list.hint"))
    await message.answer("\n\n".join(lines),
                         reply_markup=cards.list_markup(listed, t, manager.catalog))


@router.callback_query(ActCb.filter(F.action == "show"))
async def show_card(query: CallbackQuery, callback_data: ActCb, t: Translator,
                    activations: ActivationRepo, manager: ActivationManager) -> None:
    """Post the card again below; send_card turns the older copy into a pointer."""
    a = await activations.get(callback_data.id)
    message = query.message
    if a is None or message is None or a.chat_id != message.chat.id:
        await query.answer(t("act.not_found"), show_alert=True)
        return
    if ActivationState(a.state).is_final:
        await query.answer(t("act.shown_over"))
        await manager.refresh_card(a)  # the card may still show an older state
        return
    await query.answer()
    # Under the activation's lock: a state change meanwhile would edit the copy being
    # retired (bringing its buttons back) and leave the new one outdated.
    async with manager.lock(a.id or 0):
        await manager.send_card(a)


async def may_act(bot: Bot, a: Activation, query: CallbackQuery) -> bool:
    """Only the buyer acts on a card; in a group, the group's admins too."""
    message = query.message
    if message is None or a.chat_id != message.chat.id:
        return False
    if a.buyer_id == query.from_user.id:
        return True
    if a.chat_id > 0:
        return False
    try:
        member = await bot.get_chat_member(a.chat_id, query.from_user.id)
    except TelegramAPIError:
        return False
    return member.status in {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR}


def _answer_text(result: Result, t: Translator, now: datetime) -> tuple[str, bool]:
    """Text for the callback answer, and whether it needs an alert."""
    a = result.activation
    price = money(a.cost, a.currency) if a else ""
    match result.outcome:
        case Outcome.DONE:
            return "", False
        case Outcome.SCHEDULED:
            seconds = (a.cancel_at - now).total_seconds() if a else 0.0
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


@router.callback_query(ActCb.filter(F.action.in_({"cancel", "another", "done"})))
async def act(query: CallbackQuery, callback_data: ActCb, bot: Bot, t: Translator,
              db_user: User | None, activations: ActivationRepo,
              manager: ActivationManager) -> None:
    a = await activations.get(callback_data.id)
    if a is None:
        await query.answer(t("act.not_found"), show_alert=True)
        return
    if not await may_act(bot, a, query):
        await query.answer(t("common.not_yours"), show_alert=True)
        return
    if callback_data.action == "cancel":
        result = await manager.cancel(a.id or 0)
        done_text = t("act.refunded", price=money(a.cost, a.currency))
    elif callback_data.action == "another":
        result = await manager.another(a.id or 0)
        done_text = t("act.retry_ok")
    else:
        result = await manager.complete(a.id or 0)
        done_text = t("act.completed")
    text, alert = _answer_text(result, t, manager.clock())
    await query.answer(text or done_text, show_alert=alert)
    if result.outcome in {Outcome.FINAL, Outcome.HAS_CODE} and result.activation is not None:
        await manager.refresh_card(result.activation)  # the card showed an old state
