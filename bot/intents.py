"""Purchases whose outcome is unknown: found, adopted, or declared not made.

A purchase intent is written before getNumberV2 is sent. When the answer is lost (the
provider was slow past our time-out, a proxy failed, the bot was killed), the provider
may still have charged: the number then shows up on getActiveActivations, sometimes
seconds later. `IntentSettler.settle_open` (run at start-up and on every poller tick)
keeps looking for it during `window` seconds after the request:

* exactly one listed activation matches everything known about the purchase: it is
  adopted (recorded, its card shown; the poller then delivers its code);
* several match: the user is asked which number is theirs (or none), never guessed;
* none appeared by the end of the window: the user is told nothing was bought.

An activation listed before the request, one the bot already knows, another service,
another country, or dearer than the purchase's maxPrice is never this purchase (a
number bought on the same key in the web panel must not be taken for ours).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import dialling
from bot.coordination.locks import INTENT, Locks
from bot.koala import KoalaError, Purchase
from bot.koala.models import ActiveActivation
from bot.money import money
from bot.notifier import ChatUnavailable
from bot.texts import Translator
from bot.ui import cards
from bot.ui.callbacks import (
    BuyAction,
    BuyCb,
    CountryAction,
    CountryCb,
    IntentAction,
    IntentCb,
    ServiceAction,
    ServiceCb,
)
from storage.models import Activation, PurchaseIntent
from storage.repo import (
    INTENT_AMBIGUOUS,
    INTENT_NONE,
    INTENT_OPEN,
    AccountRepo,
    IntentRepo,
    UserRepo,
)

if TYPE_CHECKING:
    from bot.activation_core import ActivationCore

log = logging.getLogger(__name__)

# How long after the request a lost purchase may still show up on the provider's list.
INTENT_WINDOW = 90.0
# Past this, an intent whose list could never be read is given up with an honest "unknown":
# an unseen number has ended (and been refunded by the provider) long before.
GIVE_UP_AFTER = timedelta(minutes=30)
MAX_CANDIDATES = 5  # buttons offered when several numbers could be the purchase



def _ids(raw: str | None) -> set[int]:
    return {int(x) for x in (raw or "").split(",") if x.strip().isdigit()}


def matches(intent: PurchaseIntent, row: ActiveActivation, *, known_ids: set[int],
            known_phones: set[str]) -> bool:
    """Could this listed activation be the intent's purchase? Every known fact must agree.

    The operator (providerIds) is not listed by getActiveActivations, so it cannot be
    checked; a fact the row does not carry does not reject it.
    """
    if row.activation_id in known_ids or row.activation_id in _ids(intent.known_before):
        return False
    if not row.phone or row.phone in known_phones:
        return False
    if row.service is not None and row.service != intent.service:
        return False
    if intent.country is not None:
        # By the number itself: its prefix tells shared dialling codes apart (+7 Russia or
        # Kazakhstan, +1 USA or Canada). An unknown country or prefix does not reject.
        expected, got = dialling.iso_of_country(intent.country), dialling.iso_of(row.phone)
        if expected is not None and got is not None and got != expected:
            return False
    return not (intent.max_price is not None and row.cost is not None
                and row.cost > intent.max_price + 1e-9)


def as_purchase(row: ActiveActivation) -> Purchase:
    assert row.phone is not None
    return Purchase(activation_id=row.activation_id, phone=row.phone, cost=row.cost,
                    currency=row.currency, country_code=row.country_code,
                    can_get_another_sms=row.can_get_another_sms)


@dataclass(frozen=True, slots=True)
class Found:
    """What one look at the provider's list says about an intent."""

    candidates: list[ActiveActivation]
    readable: bool = True


class IntentSettler:
    def __init__(self, manager: ActivationCore, *, window: float = INTENT_WINDOW,
                 locks: Locks | None = None) -> None:
        self.manager = manager
        self.window = window
        # Intents whose purchase request is still in flight in this process: their
        # purchase() call settles them itself (the poller must not adopt concurrently).
        self.in_flight: set[int] = set()
        self._lock = asyncio.Lock()
        # The intent's lock, across instances on PostgreSQL: the buyer holds it while its
        # request is out, and whoever settles, picks or declines holds it meanwhile, so
        # a purchase is adopted once however many instances look for it.
        self.locks = locks if locks is not None else Locks()

    # --- looking -------------------------------------------------------------------

    async def look(self, intent: PurchaseIntent, key: str) -> Found:
        try:
            rows = await self.manager.koala.get_active_activations(key)
        except KoalaError as exc:
            log.info("intent %s: provider list not read: %s", intent.id, exc.text)
            return Found([], readable=False)
        async with self.manager.db() as session:
            repo = IntentRepo(session)
            known_ids = await repo.known_provider_ids(intent.account_id)
            phones = await repo.known_phones(intent.account_id)
        found = [r for r in rows
                 if matches(intent, r, known_ids=known_ids, known_phones=phones)]
        return Found(sorted(found, key=lambda r: r.activation_id))

    async def _key(self, intent: PurchaseIntent) -> str | None:
        async with self.manager.db() as session:
            accounts = AccountRepo(session, self.manager.keybox)
            return accounts.usable_key(await accounts.get(intent.account_id))

    # --- settling ------------------------------------------------------------------

    async def settle_open(self) -> None:
        """Look once for every open intent's number (start-up and every poller tick)."""
        if self._lock.locked():
            return  # the previous round is still at it
        async with self._lock:
            async with self.manager.db() as session:
                repo = IntentRepo(session)
                intents = await repo.open()
                unanswered = await repo.unanswered(self.manager.clock() - GIVE_UP_AFTER)
            for intent in unanswered:
                # Never answered: the numbers have ended by now; the service is unblocked.
                await self._exclusively(intent, INTENT_AMBIGUOUS,
                                        lambda i: self._nothing(i, "buy.intent_unknown"))
            for intent in intents:
                if intent.id is None or intent.id in self.in_flight:
                    continue
                await self._exclusively(intent, INTENT_OPEN, self.settle)

    async def _exclusively(self, intent: PurchaseIntent, state: str,
                           action: Callable[[PurchaseIntent], Awaitable[object]]) -> None:
        """Run `action` on the intent if nobody else is at it (its buyer, or another
        instance) and it is still in `state` once its lock is held."""
        assert intent.id is not None
        lock = self.locks.lock(INTENT, intent.id)
        if not await lock.try_acquire():
            return
        try:
            async with self.manager.db() as session:
                fresh = await IntentRepo(session).get(intent.id)
            if fresh is not None and fresh.state == state:
                await action(fresh)
        except Exception:
            log.exception("intent %s not settled this round", intent.id)
        finally:
            await lock.release()
            self.locks.forget(INTENT, intent.id)

    async def settle(self, intent: PurchaseIntent) -> Activation | None:
        """One look for an open intent; adopts, asks, gives up or leaves it open."""
        key = await self._key(intent)
        now = self.manager.clock()
        past_window = now >= intent.requested_at + timedelta(seconds=self.window)
        if key is None:
            found = Found([], readable=False)
        else:
            found = await self.look(intent, key)
        if len(found.candidates) == 1:
            return await self.adopt(intent, found.candidates[0])
        if len(found.candidates) > 1:
            await self._ask(intent, found.candidates)
            return None
        if past_window and found.readable:
            await self._nothing(intent, "buy.intent_none")
        elif now >= intent.requested_at + GIVE_UP_AFTER or (
                past_window and not self.manager.koala.has_active_list):
            # No way to look (a provider without the list, or one that never answers):
            # say so honestly rather than keep the service blocked.
            await self._nothing(intent, "buy.intent_unknown")
        return None

    async def adopt(self, intent: PurchaseIntent, row: ActiveActivation) -> Activation:
        a = await self.manager.store_purchase(intent, as_purchase(row))
        log.warning("purchase answer lost; adopted activation %s for intent %s",
                    row.activation_id, intent.id)
        await self._show_bought(intent, a)
        return a

    async def _show_bought(self, intent: PurchaseIntent, a: Activation) -> None:
        """'Bought' on the menu message (best effort), then the card, whatever the edit did."""
        t = await self._t(intent)
        if intent.message_id is not None:
            await self._edit(intent, t("buy.bought"), None)
        await self.manager.send_card(a)

    async def _ask(self, intent: PurchaseIntent, rows: list[ActiveActivation]) -> None:
        rows = rows[:MAX_CANDIDATES]
        async with self.manager.db() as session:
            intent = await IntentRepo(session).settle(
                intent, INTENT_AMBIGUOUS, candidates=",".join(str(r.activation_id) for r in rows))
        t = await self._t(intent)
        assert intent.id is not None
        buttons = [[InlineKeyboardButton(
            text=f"{cards.phone_display(r.phone or '')} · {money(r.cost, r.currency)}",
            callback_data=IntentCb(action=IntentAction.PICK, id=intent.id,
                                   aid=r.activation_id).pack())]
            for r in rows]
        buttons.append([InlineKeyboardButton(
            text=t("buy.btn.intent_none"),
            callback_data=IntentCb(action=IntentAction.NONE, id=intent.id).pack())])
        name = self.manager.catalog.service_name(intent.service, t.lang)
        text = t("buy.intent_ask", service=name)
        await self._edit(intent, text, InlineKeyboardMarkup(inline_keyboard=buttons),
                         new_if_gone=True)

    async def _nothing(self, intent: PurchaseIntent, text_key: str) -> None:
        async with self.manager.db() as session:
            intent = await IntentRepo(session).settle(intent, INTENT_NONE)
        t = await self._t(intent)
        o = intent.buyer_id
        markup = InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=t("common.try_again"), callback_data=BuyCb(
                action=BuyAction.SHOW, owner=o, svc=intent.service, country=intent.country,
                provider=intent.operator or 0).pack()),
            InlineKeyboardButton(text=t("common.back"), callback_data=CountryCb(
                action=CountryAction.PAGE, owner=o, svc=intent.service).pack()),
        ]]) if intent.chat_id > 0 else None
        if text_key == "buy.intent_unknown":
            markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
                text=t("buy.btn.menu"),
                callback_data=ServiceCb(action=ServiceAction.PAGE, owner=o).pack())]])
        text = t(text_key, service=self.manager.catalog.service_name(intent.service, t.lang))
        await self._edit(intent, text, markup, new_if_gone=True)
        log.info("intent %s settled: nothing bought (%s)", intent.id, text_key)

    # --- the user's answer to "which number is yours?" ---------------------------------

    async def pick(self, intent_id: int, provider_activation_id: int) -> Activation | None:
        """The user said which number is theirs. None: that number is not available now."""
        async with self._lock, self.locks.lock(INTENT, intent_id):
            async with self.manager.db() as session:
                intent = await IntentRepo(session).get(intent_id)
            if (intent is None or intent.state != INTENT_AMBIGUOUS
                    or provider_activation_id not in _ids(intent.candidates)):
                return None
            key = await self._key(intent)
            if key is None:
                return None
            found = await self.look(intent, key)
            row = next((r for r in found.candidates
                        if r.activation_id == provider_activation_id), None)
            if row is None:
                return None
            return await self.adopt(intent, row)

    async def decline(self, intent_id: int) -> bool:
        """None of the offered numbers is this purchase: nothing is adopted."""
        async with self._lock, self.locks.lock(INTENT, intent_id), \
                self.manager.db() as session:
            repo = IntentRepo(session)
            intent = await repo.get(intent_id)
            if intent is None or intent.state != INTENT_AMBIGUOUS:
                return False
            await repo.settle(intent, INTENT_NONE)
            return True

    # --- chat ------------------------------------------------------------------------

    async def _t(self, intent: PurchaseIntent) -> Translator:
        async with self.manager.db() as session:
            user = await UserRepo(session).get_or_create(intent.buyer_id)
        return Translator(user.language)

    async def _edit(self, intent: PurchaseIntent, text: str,
                    markup: InlineKeyboardMarkup | None, *, new_if_gone: bool = False) -> None:
        notifier = self.manager.notifier
        try:
            if intent.message_id is not None and await notifier.edit(
                    intent.chat_id, intent.message_id, text, markup=markup):
                return
            if new_if_gone:
                await notifier.send(intent.chat_id, text, markup=markup,
                                    thread=intent.message_thread_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("intent %s: message not shown: %s", intent.id, exc)

