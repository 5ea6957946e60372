"""Buying: the confirm screen's data (price, supplier, balance after purchase), the
purchase itself through `ActivationManager.purchase`, the provider's refusals as typed
outcomes, and the user's answers about a purchase whose outcome was lost."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot import prices
from bot.activations import ActivationManager, PurchaseLost, PurchasePending
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
from bot.services.catalogue import CatalogueService, OffersFailed, PayingKey, SoldOut
from bot.services.group_rules import GroupRulesService, Reservation, RuleRefusal
from bot.services.groups import GroupService
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import utcnow
from storage.repo import INTENT_ADOPTED, AccountRepo, ActivationRepo, IntentRepo
from storage.repos import CLAIM_DONE, BuyClaimRepo

log = logging.getLogger(__name__)

# A press's record still "held" this long after it was made belongs to an instance that
# died mid-purchase: a new press may go ahead (the purchase intent says if one went out).
CLAIM_STALE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ConfirmData:
    price: float
    provider: int  # 0: the cheapest (also when the chosen supplier sold out)
    balance: float | None  # None: not known now (the screen works without it)
    currency: int | None
    via_picker: bool  # the supplier picker was on the way: Back goes there


class Refusal(StrEnum):
    """Why a Buy press does not buy."""

    BUSY = "busy"  # a purchase of this person is in flight
    DONE = "done"  # this confirm screen already bought
    CHECKING = "checking"  # an earlier purchase's outcome is still being looked for
    NO_KEY = "no_key"
    BAD_KEY = "bad_key"


class Failure(StrEnum):
    PENDING = "pending"  # outcome unknown, still looking (the settler edits the message)
    LOST = "lost"  # outcome unknown: maybe bought; never re-buy from here
    TRANSIENT = "transient"
    PRICE_CHANGED = "price_changed"  # no new price named: show the confirm screen again
    PRICE_ROSE = "price_rose"  # `min_price` is the new price
    NO_NUMBERS = "no_numbers"
    NO_BALANCE = "no_balance"  # `balance` when known
    BAD_KEY = "bad_key"
    PROHIBITED = "prohibited"
    REGION = "region"
    BANNED = "banned"  # `until`
    RULE = "rule"  # a group rule refused it before any money moved (`text` names it)
    OTHER = "other"  # `text`


@dataclass(frozen=True, slots=True)
class Ready:
    """The purchase may go ahead: the paying account's key and currency."""

    key: str
    currency: int | None


@dataclass(frozen=True, slots=True)
class Bought:
    activation_id: int


@dataclass(frozen=True, slots=True)
class Failed:
    failure: Failure
    text: str = ""
    refusal: RuleRefusal | None = None  # RULE: which group rule refused, and why
    min_price: float | None = None
    balance: float | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class IntentInfo:
    buyer_id: int
    chat_id: int
    service: str


@dataclass(frozen=True, slots=True)
class PastPurchase:
    """What a finished activation bought, for "Buy again"."""

    buyer_id: int
    chat_id: int
    service: str
    country: int | None


class PurchaseService:
    def __init__(self, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 manager: ActivationManager, catalogue: CatalogueService, *,
                 groups: GroupService | None = None,
                 group_rules: GroupRulesService | None = None) -> None:
        self.db = db
        self.groups = groups
        self.group_rules = group_rules
        self.keybox = keybox
        self.koala = koala
        self.manager = manager
        self.catalogue = catalogue
        # Memory that stops a double tap from buying twice: people with a purchase in
        # flight, and confirm messages that already bought (bounded: recent taps only).
        self._busy: set[int] = set()
        self._done: OrderedDict[tuple[int, int], None] = OrderedDict()

    async def balance(self, key: str) -> float | None:
        try:
            return await self.koala.get_balance(key)
        except KoalaError as exc:  # the screens work without it
            log.info("balance not shown: %s", exc.text)
            return None

    async def confirm(self, paying: PayingKey, key: str, service: str, country: int | None,
                      provider: int, *, offers: list[CountryOffer] | None = None,
                      ) -> ConfirmData | SoldOut | OffersFailed:
        """The current price; a supplier that sold out falls back to the cheapest."""
        if offers is None:
            loaded = await self.catalogue.offers(key, service)
            if isinstance(loaded, OffersFailed):
                return loaded
            offers = loaded
        offer = prices.find(offers, country)
        priced = prices.price_of(offer, provider) if offer is not None else None
        if priced is None and offer is not None and provider:
            provider, priced = 0, prices.price_of(offer, 0)
        if offer is None or priced is None:
            return SoldOut(offers)
        picker = country is not None and len(prices.stocked_providers(offer)) > 1
        return ConfirmData(priced[0], provider, await self.balance(key), paying.currency,
                           picker)

    # --- buying ----------------------------------------------------------------------

    def claim(self, buyer_id: int, chat_id: int, message_id: int) -> Refusal | None:
        """Take the person's purchase slot (None) or say why not. Synchronous on purpose:
        a concurrent tap must see the slot taken. `release` gives it back."""
        if buyer_id in self._busy:
            return Refusal.BUSY
        if (chat_id, message_id) in self._done:
            return Refusal.DONE
        self._busy.add(buyer_id)
        return None

    def release(self, buyer_id: int) -> None:
        self._busy.discard(buyer_id)

    def _mark_done(self, chat_id: int, message_id: int) -> None:
        self._done[(chat_id, message_id)] = None
        while len(self._done) > 1000:
            self._done.popitem(last=False)

    async def hold(self, chat_id: int, message_id: int, tap: str) -> Refusal | None:
        """The press's idempotency record (chat, menu message, button data), unique in the
        database: of two taps that reached two instances, one goes ahead (None), the other
        is refused. `buy` (or `ready`, when it refuses) settles the record."""
        async with self.db() as session:
            before = await BuyClaimRepo(session).claim(
                chat_id, message_id, tap, stale_before=utcnow() - CLAIM_STALE)
        if before is None:
            return None
        return Refusal.DONE if before == CLAIM_DONE else Refusal.BUSY

    async def _settle_hold(self, chat_id: int, message_id: int, *, bought: bool) -> None:
        async with self.db() as session:
            await BuyClaimRepo(session).settle(chat_id, message_id, bought=bought)

    async def ready(self, owner_id: int, chat_id: int, message_id: int,
                    service: str, *, tap: str | None = None) -> Ready | Refusal:
        """May this press buy? With `tap` (the button's data) the press is recorded first
        (see `hold`); a refusal here gives the record back."""
        if tap is not None:
            held = await self.hold(chat_id, message_id, tap)
            if held is not None:
                return held
        found = await self._ready(owner_id, chat_id, message_id, service)
        if tap is not None and not isinstance(found, Ready):
            await self._settle_hold(chat_id, message_id, bought=False)
        return found

    async def _ready(self, owner_id: int, chat_id: int, message_id: int,
                     service: str) -> Ready | Refusal:
        async with self.db() as session:
            # A purchase whose outcome is still being checked blocks this menu and this
            # service in the chat: a second one could charge twice (it survives restarts).
            intents = IntentRepo(session)
            if await intents.blocking(chat_id, service, message_id) is not None:
                return Refusal.CHECKING
            last = await intents.last_on_message(chat_id, message_id)
            if last is not None and last.state == INTENT_ADOPTED:  # also after a restart
                return Refusal.DONE
            accounts = AccountRepo(session, self.keybox)
            account = await accounts.current(owner_id)
            key = accounts.usable_key(account)
        if account is None:
            return Refusal.NO_KEY
        if key is None:
            return Refusal.BAD_KEY
        return Ready(key, account.currency)

    async def buy(self, owner_id: int, *, chat_id: int, message_id: int, buyer_id: int,
                  service: str, country: int | None, max_price: float,
                  provider: int, thread_id: int | None = None) -> Bought | Failed:
        """Buy with the account of `owner_id` (a group's when negative: its rules are
        checked, and room held, before any money moves). The press's record (`hold`)
        goes once the outcome is written: from then on the purchase intent on the menu
        refuses another press (adopted: "already bought"; open: "still checking"). It
        stays only for a lost answer, which no intent stands for."""
        outcome = await self._buy(owner_id, chat_id=chat_id, message_id=message_id,
                                  buyer_id=buyer_id, service=service, country=country,
                                  max_price=max_price, provider=provider, thread_id=thread_id)
        lost = isinstance(outcome, Failed) and outcome.failure is Failure.LOST
        await self._settle_hold(chat_id, message_id, bought=lost)
        return outcome

    async def _buy(self, owner_id: int, *, chat_id: int, message_id: int, buyer_id: int,
                   service: str, country: int | None, max_price: float,
                   provider: int, thread_id: int | None = None) -> Bought | Failed:
        async with self.db() as session:
            account = await AccountRepo(session, self.keybox).current(owner_id)
        if account is None:
            return Failed(Failure.BAD_KEY)
        reservation: Reservation | None = None
        codes_chat_id: int | None = None
        rules = self.group_rules
        if owner_id < 0 and rules is not None:
            is_admin = (self.groups is not None
                        and await self.groups.is_admin(owner_id, buyer_id))
            held = await rules.reserve(owner_id, buyer_id, max_price, is_admin=is_admin)
            if isinstance(held, RuleRefusal):
                return Failed(Failure.RULE, refusal=held)
            reservation = held
            if (await rules.rules(owner_id)).codes_to == "buyer":
                codes_chat_id = buyer_id
        try:
            activation = await self.manager.purchase(
                account=account, chat_id=chat_id, buyer_id=buyer_id, service=service,
                country=country, max_price=max_price, provider_id=provider or None,
                menu_message_id=message_id, thread_id=thread_id,
                codes_chat_id=codes_chat_id)
        except KoalaError as exc:
            if isinstance(exc, PurchaseLost) and not isinstance(exc, PurchasePending):
                self._mark_done(chat_id, message_id)  # a number may exist: never re-buy
            # PurchasePending: the open intent blocks this menu until it is settled.
            if rules is not None and reservation is not None and not isinstance(exc, PurchaseLost):
                # A refusal: certainly nothing bought. A lost answer keeps its room held:
                # the number may exist and must count against the limits.
                await rules.release(reservation)
            return await self._failed(exc, service, self.manager.api_key(account))
        if rules is not None and reservation is not None:
            assert activation.id is not None
            await rules.confirm(reservation, activation.id)
        self._mark_done(chat_id, message_id)
        self.catalogue.invalidate(service)  # the stock changed
        assert activation.id is not None
        return Bought(activation.id)

    async def _failed(self, exc: KoalaError, service: str, key: str) -> Failed:
        if isinstance(exc, WrongMaxPrice | NoNumbers | TransientError):
            self.catalogue.invalidate(service)  # what the menus showed is out of date
        if isinstance(exc, PurchasePending):
            log.warning("purchase of %s outcome unknown, checking: %s", service, exc.text)
            return Failed(Failure.PENDING)
        if isinstance(exc, PurchaseLost):
            log.warning("purchase of %s outcome unknown: %s", service, exc.text)
            return Failed(Failure.LOST)
        if isinstance(exc, TransientError):
            return Failed(Failure.TRANSIENT)
        if isinstance(exc, WrongMaxPrice):
            if exc.min_price is None:
                return Failed(Failure.PRICE_CHANGED)
            return Failed(Failure.PRICE_ROSE, min_price=exc.min_price)
        if isinstance(exc, NoNumbers):
            return Failed(Failure.NO_NUMBERS)
        if isinstance(exc, NoBalance):
            return Failed(Failure.NO_BALANCE, balance=await self.balance(key))
        if isinstance(exc, BadKey):
            return Failed(Failure.BAD_KEY)
        if isinstance(exc, ServiceProhibited | BadService):
            return Failed(Failure.PROHIBITED)
        if isinstance(exc, ServiceUnavailableRegion):
            return Failed(Failure.REGION)
        if isinstance(exc, Banned):
            return Failed(Failure.BANNED, until=exc.until)
        return Failed(Failure.OTHER, text=exc.text)

    async def send_card(self, bought: Bought) -> None:
        async with self.db() as session:
            activation = await ActivationRepo(session).get(bought.activation_id)
        if activation is not None:
            await self.manager.send_card(activation)

    async def past_purchase(self, activation_id: int) -> PastPurchase | None:
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
        if a is None:
            return None
        return PastPurchase(a.buyer_id, a.chat_id, a.service, a.country)

    # --- "which of these numbers is yours?" ------------------------------------------

    async def intent(self, intent_id: int) -> IntentInfo | None:
        async with self.db() as session:
            intent = await IntentRepo(session).get(intent_id)
        if intent is None:
            return None
        return IntentInfo(intent.buyer_id, intent.chat_id, intent.service)

    async def decline(self, intent_id: int) -> bool:
        """None of the numbers is this purchase; False when it was settled meanwhile."""
        return await self.manager.intents.decline(intent_id)

    async def pick(self, intent_id: int, provider_activation_id: int,
                   service: str) -> bool:
        """This number is the purchase (adopted: its card follows); False when it is not
        available any more."""
        activation = await self.manager.intents.pick(intent_id, provider_activation_id)
        if activation is None:
            return False
        self.catalogue.invalidate(service)
        return True
