"""Buying a number: the purchase intent, getNumberV2 (never retried), storing the result.

A purchase intent is written first, so that a purchase whose answer is lost (or whose bot
is killed meanwhile) is found later (bot/intents.py, the settler).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.coordination.locks import INTENT, Locks
from bot.intents import as_purchase
from bot.koala import BadAction, KoalaClient, KoalaError, Purchase, TransientError
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import Account, Activation, PurchaseIntent
from storage.repo import INTENT_ADOPTED, INTENT_NONE, AccountRepo, ActivationRepo, IntentRepo

if TYPE_CHECKING:
    from bot.intents import IntentSettler

log = logging.getLogger(__name__)

# How long after an unanswered purchase the provider's list is first looked at (the
# settler, bot/intents.py, keeps looking after that).
RECONCILE_DELAY = 1.0
CURRENCY_WRITES = 4  # sessions storing a newly learnt currency at once


class PurchaseLost(TransientError):
    """The purchase answer was lost and reconciliation could not tell whether it happened."""


class PurchasePending(PurchaseLost):
    """The purchase answer was lost; its intent stays open and is settled later (the number
    may still show up on the provider's list, or the user is told nothing was bought)."""

    def __init__(self, text: str, *, intent_id: int) -> None:
        super().__init__(text)
        self.intent_id = intent_id


class Buyer:
    def __init__(self, *, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 clock: Callable[[], datetime], intents: IntentSettler,
                 reconcile_delay: float = RECONCILE_DELAY,
                 locks: Locks | None = None) -> None:
        self.db = db
        # The intent's lock is held while its request is out: no settler, on any instance,
        # adopts a purchase its buyer is still storing (bot/intents.py).
        self.locks = locks if locks is not None else Locks()
        self.keybox = keybox
        self.koala = koala
        self.clock = clock
        self.intents = intents
        self.reconcile_delay = reconcile_delay
        self._currency_known: set[int] = set()  # accounts whose currency is stored
        # A first tick over many new accounts learns every currency at once. Unbounded, a
        # thousand sessions waited together for SQLite's one writer and raised the heap by
        # ~16 MiB, which the process keeps; a few at a time write as fast.
        self._currency_writes = asyncio.Semaphore(CURRENCY_WRITES)

    async def learn_currency(self, account_id: int, currency: int | None) -> None:
        """Store the account's currency the first time an answer names it (once: after
        that no query), so every screen can show its sign."""
        if currency is None or account_id in self._currency_known:
            return
        async with self._currency_writes:
            if account_id in self._currency_known:  # stored while this call waited
                return
            try:
                async with self.db() as session:
                    if await AccountRepo(session, self.keybox).learn_currency(account_id,
                                                                             currency):
                        log.info("account %s pays in currency %s", account_id, currency)
            except Exception as exc:  # only a sign on screens: never fail a purchase for it
                log.warning("currency of account %s not stored: %s", account_id, exc)
                return
            self._currency_known.add(account_id)

    async def purchase(self, *, account: Account, chat_id: int, buyer_id: int, service: str,
                       country: int | None, max_price: float | None,
                       provider_id: int | None = None,
                       menu_message_id: int | None = None,
                       thread_id: int | None = None,
                       codes_chat_id: int | None = None) -> Activation:
        """Buy with getNumberV2 (once: never retried) and store the activation.

        A purchase intent is written first, so that a purchase whose answer is lost (or
        whose bot is killed meanwhile) is found later (bot/intents.py). Raises the
        provider's error (NoNumbers, WrongMaxPrice, ...) untouched: nothing was bought.
        When the answer is lost and one look at getActiveActivations does not settle it,
        raises PurchasePending: the intent stays open and the settler keeps looking.
        """
        assert account.id is not None
        key = self.keybox.decrypt(account.key_encrypted)
        providers = [provider_id] if provider_id else None
        intent = await self._open_intent(account.id, key, chat_id=chat_id, buyer_id=buyer_id,
                                         service=service, country=country,
                                         max_price=max_price, operator=provider_id,
                                         message_id=menu_message_id, thread_id=thread_id,
                                         codes_chat_id=codes_chat_id)
        assert intent.id is not None
        try:
            try:
                if self.koala.has_number_v2:
                    try:
                        purchase = await self.koala.get_number_v2(
                            key, service, country, max_price=max_price, provider_ids=providers)
                    except BadAction:
                        # Nothing was bought: the provider lacks the action. getNumber does
                        # the same purchase with a shorter answer.
                        self.koala.has_number_v2 = False
                if not self.koala.has_number_v2:
                    purchase = await self.koala.get_number(
                        key, service, country, max_price=max_price, provider_ids=providers)
            except TransientError as exc:
                return await self._reconcile(intent, key, exc)
            except KoalaError:
                # The provider answered with a refusal: certainly nothing was bought.
                async with self.db() as session:
                    await IntentRepo(session).settle(intent, INTENT_NONE)
                raise
            return await self.store_purchase(intent, purchase)
        finally:
            self.intents.in_flight.discard(intent.id)
            await self.locks.lock(INTENT, intent.id).release()
            self.locks.forget(INTENT, intent.id)

    async def _open_intent(self, account_id: int, key: str, *, chat_id: int, buyer_id: int,
                           service: str, country: int | None, max_price: float | None,
                           operator: int | None, message_id: int | None,
                           thread_id: int | None = None,
                           codes_chat_id: int | None = None) -> PurchaseIntent:
        """Record the purchase before it is sent, with the numbers that already exist
        (none of them can be this purchase). An unreadable list is no reason not to buy."""
        known: str | None = None
        if self.koala.has_active_list:
            try:
                rows = await self.koala.get_active_activations(key)
                known = ",".join(str(r.activation_id) for r in rows)
            except KoalaError as exc:
                log.info("activations before a purchase not read: %s", exc.text)
        intent = PurchaseIntent(
            account_id=account_id, chat_id=chat_id, buyer_id=buyer_id, service=service,
            country=country, operator=operator,
            max_price=max_price, known_before=known, requested_at=self.clock(),
            message_id=message_id, message_thread_id=thread_id,
            codes_chat_id=codes_chat_id)
        async with self.db() as session:
            session.add(intent)
            await session.flush()
            assert intent.id is not None
            # Marked (and locked) before it is visible to the settler: this call settles it.
            self.intents.in_flight.add(intent.id)
            await self.locks.lock(INTENT, intent.id).acquire()
            try:
                await session.commit()
            except BaseException:
                self.intents.in_flight.discard(intent.id)
                await self.locks.lock(INTENT, intent.id).release()
                raise
            return intent

    async def store_purchase(self, intent: PurchaseIntent, purchase: Purchase) -> Activation:
        """Record a bought number and settle its intent as adopted (in one commit)."""
        started = intent.requested_at
        now = self.clock()
        activation = Activation(
            provider_id=purchase.activation_id, account_id=intent.account_id,
            chat_id=intent.chat_id, buyer_id=intent.buyer_id, service=intent.service,
            message_thread_id=intent.message_thread_id, codes_chat_id=intent.codes_chat_id,
            country=intent.country, phone=purchase.phone,
            cost=purchase.cost if purchase.cost is not None else (intent.max_price or 0.0),
            currency=purchase.currency, can_get_another_sms=purchase.can_get_another_sms,
            bought_at=started,
            cancel_at=started + timedelta(seconds=purchase.cancel_delay),
            ends_at=started + timedelta(seconds=purchase.lifetime),
            updated_at=now,
        )
        async with self.db() as session:
            repo = ActivationRepo(session)
            existing = await repo.by_provider_id(intent.account_id, purchase.activation_id)
            if existing is None:
                if activation.currency is None:
                    # getNumber (v1) names no currency: the account's, once known.
                    account = await session.get(Account, intent.account_id)
                    activation.currency = account.currency if account else None
                session.add(activation)
            else:
                activation = existing
            fresh = await session.get(PurchaseIntent, intent.id)
            if fresh is not None:
                await session.flush()
                fresh.state = INTENT_ADOPTED
                fresh.activation_id = activation.id
                fresh.settled_at = now
                session.add(fresh)
            await session.commit()
            await session.refresh(activation)
        await self.learn_currency(intent.account_id, purchase.currency)
        return activation

    async def _reconcile(self, intent: PurchaseIntent, key: str,
                         exc: TransientError) -> Activation:
        """The answer was lost: one quick look for the number, else leave it to the settler."""
        await asyncio.sleep(self.reconcile_delay)
        found = await self.intents.look(intent, key)
        if len(found.candidates) == 1:
            log.warning("purchase answer lost; adopted activation %s",
                        found.candidates[0].activation_id)
            return await self.store_purchase(intent, as_purchase(found.candidates[0]))
        raise PurchasePending(f"purchase outcome unknown: {exc.text}", intent_id=intent.id or 0)
