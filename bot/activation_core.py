"""The money core's shared part: one lock per activation, loading and moving its record,
recording what the provider reports, and the parts it hands work to (buying, cards, the
code outbox). bot/activations.py adds the money operations on top of it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.buying import RECONCILE_DELAY, Buyer
from bot.buying import PurchaseLost as PurchaseLost  # re-exported: handlers catch it
from bot.buying import PurchasePending as PurchasePending
from bot.card_publisher import CardPublisher
from bot.catalog import Catalog
from bot.coordination.locks import ACTIVATION, Locks, SharedLock
from bot.coordination.sends import OnceOutbox
from bot.intents import INTENT_WINDOW, IntentSettler
from bot.koala import (
    KoalaClient,
    Purchase,
    SmsStatus,
    StatusResult,
)
from bot.koala.models import ActiveActivation
from bot.notifier import Notifier
from bot.outbox import Outbox
from storage.crypto import KeyBox, KeyDecryptError
from storage.db import SessionFactory
from storage.models import Account, Activation, PurchaseIntent, utcnow
from storage.repo import (
    AccountRepo,
    ActivationRepo,
    CodeRepo,
)
from storage.repos import PollKey
from storage.states import ActivationState

log = logging.getLogger(__name__)

# An activation whose key is unreadable is closed on our side this long after its end:
# the provider has ended and refunded it by then, but cannot be asked to confirm.
UNREADABLE_KEY_GRACE = timedelta(minutes=10)


class Outcome(enum.Enum):
    DONE = "done"  # the provider confirmed
    SCHEDULED = "scheduled"  # cancel remembered until the window opens
    HAS_CODE = "has_code"
    NO_CODE = "no_code"
    UNAVAILABLE = "unavailable"  # e.g. another code is not possible for this number
    FINAL = "final"  # already over
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # the provider said no; `text` says why
    TRANSIENT = "transient"  # the provider did not answer; nothing changed
    # The provider no longer knows the activation (NO_ACTIVATION); looked up:
    GONE_COMPLETED = "gone_completed"  # it had been completed on the provider's side
    UNKNOWN = "unknown"  # nothing says how it ended: neither refunded nor completed


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    activation: Activation | None = None
    text: str = ""


class ActivationCore:
    def __init__(self, *, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 catalog: Catalog, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow,
                 reconcile_delay: float = RECONCILE_DELAY,
                 intent_window: float = INTENT_WINDOW,
                 locks: Locks | None = None) -> None:
        self.db = db
        self.keybox = keybox
        self.koala = koala
        self.catalog = catalog
        self.notifier = notifier
        self.clock = clock
        # One actor per activation; across instances too on PostgreSQL (bot/coordination).
        self.locks = locks if locks is not None else Locks()
        # Decrypted keys of the accounts being polled, by (account id, encrypted key): a
        # replaced or removed key retires its account row and a new row gets a new id, and
        # a forgotten key changes the encrypted value, so a changed key is never served
        # from here. Entries of accounts with nothing running are dropped each tick.
        self._poll_keys: dict[tuple[int, str], str | None] = {}
        # The parts read the manager's clock when they need it: tests (and a bench) replace
        # `manager.clock` to travel in time.
        self.cards = CardPublisher(db=db, catalog=catalog, notifier=notifier,
                                   clock=lambda: self.clock())
        # Several instances: a send cut short by a crash is not repeated (coordination/sends).
        parts: dict[str, Any] = {"db": db, "catalog": catalog, "notifier": notifier,
                                 "card_publisher": self.cards, "lock": self.lock}
        self.outbox = (OnceOutbox(me=self.locks.instance, **parts) if self.locks.shared
                       else Outbox(**parts))
        self.intents = IntentSettler(self, window=intent_window, locks=self.locks)
        self.buying = Buyer(db=db, keybox=keybox, koala=koala, clock=lambda: self.clock(),
                            intents=self.intents, reconcile_delay=reconcile_delay,
                            locks=self.locks)

    def lock(self, activation_id: int) -> SharedLock:
        return self.locks.lock(ACTIVATION, activation_id)

    def _forget_lock(self, activation_id: int) -> None:
        self.locks.forget(ACTIVATION, activation_id)

    def api_key(self, account: Account) -> str:
        return self.keybox.decrypt(account.key_encrypted)

    async def learn_currency(self, account_id: int, currency: int | None) -> None:
        await self.buying.learn_currency(account_id, currency)

    # --- buying (bot/buying.py) ------------------------------------------------------

    async def purchase(self, *, account: Account, chat_id: int, buyer_id: int, service: str,
                       country: int | None, max_price: float | None,
                       provider_id: int | None = None,
                       menu_message_id: int | None = None,
                       thread_id: int | None = None,
                       codes_chat_id: int | None = None) -> Activation:
        """Buy with getNumberV2 (once: never retried) and store the activation. Raises the
        provider's error untouched (nothing was bought) or PurchasePending (lost answer)."""
        return await self.buying.purchase(
            account=account, chat_id=chat_id, buyer_id=buyer_id, service=service,
            country=country, max_price=max_price, provider_id=provider_id,
            menu_message_id=menu_message_id, thread_id=thread_id,
            codes_chat_id=codes_chat_id)

    async def store_purchase(self, intent: PurchaseIntent, purchase: Purchase) -> Activation:
        return await self.buying.store_purchase(intent, purchase)

    # --- cards (bot/card_publisher.py) ---------------------------------------------

    async def render(self, a: Activation, *,
                     note: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
        return await self.cards.render(a, note=note)

    async def send_card(self, a: Activation, *, reply_to: int | None = None,
                        note: str | None = None) -> Activation:
        return await self.cards.send_card(a, reply_to=reply_to, note=note)

    async def refresh_card(self, a: Activation, *, note: str | None = None) -> None:
        await self.cards.refresh_card(a, note=note)

    async def _notice(self, a: Activation, key: str) -> None:
        await self.cards.notice(a, key)

    # --- actions -------------------------------------------------------------------

    async def _load(self, activation_id: int) -> tuple[Activation | None, str | None]:
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
            if a is None:
                return None, None
            accounts = AccountRepo(session, self.keybox)
            return a, accounts.usable_key(await accounts.get(a.account_id))

    async def _move(self, a: Activation, target: ActivationState, **changes: object) -> Activation:
        async with self.db() as session:
            fresh = await ActivationRepo(session).get(a.id or 0)
            assert fresh is not None
            for name, value in changes.items():
                setattr(fresh, name, value)
            return await ActivationRepo(session).move(fresh, target)


    # --- what the poller reports ---------------------------------------------------

    async def apply_status(self, activation_id: int, status: StatusResult,
                           *, can_get_another_sms: bool | None = None) -> None:
        """Bring our record in line with the provider's view of one activation."""
        async with self.lock(activation_id):
            if status.status == SmsStatus.OK and status.code:
                # The code, its state change and the flag: one transaction, then queued.
                rec = await self.outbox.record(activation_id, status.code, status.text,
                                               can_get_another_sms=can_get_another_sms)
                if rec is not None:
                    self.outbox.deliver(rec)
                return
            a, _ = await self._load(activation_id)
            if a is None or ActivationState(a.state).is_final:
                return
            if can_get_another_sms is not None and can_get_another_sms != a.can_get_another_sms:
                a = await self._move(a, ActivationState(a.state),
                                     can_get_another_sms=can_get_another_sms)
            if status.status == SmsStatus.WAIT_RESEND and not a.resend_requested:
                a = await self._move(a, ActivationState(a.state), resend_requested=True)
                await self.refresh_card(a)
            elif status.status == SmsStatus.CANCEL:
                a = await self._move(a, ActivationState.PROVIDER_CANCELLED)
                await self.refresh_card(a)
                await self._notice(a, "act.notice.provider_cancelled")
            # WAIT_CODE and WAIT_RETRY:<old code> bring nothing new.

    async def _record_and_deliver(self, a: Activation, code: str, text: str | None) -> None:
        """Record a new code (one transaction), then queue it: the code goes to the chat
        first, the card edit after it (bot/outbox.py). Called under the activation's lock;
        returns without waiting for the chat."""
        assert a.id is not None
        rec = await self.outbox.record(a.id, code, text)
        if rec is not None:
            self.outbox.deliver(rec)

    async def deliver_pending(self) -> int:
        """Send codes stored but not delivered (bot/outbox.py)."""
        return await self.outbox.deliver_pending()


    # --- what the poller asks (it reaches no further than these) ----------------------

    @property
    def has_active_list(self) -> bool:
        """Whether the provider offers getActiveActivations (the client learns it)."""
        return self.koala.has_active_list

    async def list_active(self, key: str) -> list[ActiveActivation]:
        return await self.koala.get_active_activations(key)

    async def status(self, key: str, provider_id: int) -> StatusResult:
        return await self.koala.get_status_v2(key, provider_id)

    async def balance(self, key: str) -> float:
        return await self.koala.get_balance(key)

    async def usable_key(self, account_id: int) -> str | None:
        """The account's API key, or None when it has none that decrypts."""
        async with self.db() as session:
            accounts = AccountRepo(session, self.keybox)
            return accounts.usable_key(await accounts.get(account_id))

    async def running(self) -> tuple[list[Activation], dict[int, list[str]]]:
        """The activations still running and the codes on record for each, oldest first."""
        async with self.db() as session:
            active = await ActivationRepo(session).active()
            codes = await CodeRepo(session).for_activations(a.id for a in active if a.id)
        return active, {i: [c.code for c in rows] for i, rows in codes.items()}

    async def running_for_poll(
            self) -> tuple[list[Activation], dict[int, list[str]], dict[int, PollKey]]:
        """`running()` plus each account's encrypted key and currency: two queries per
        tick, however many accounts."""
        async with self.db() as session:
            active, keys = await ActivationRepo(session).active_with_keys()
            codes = await CodeRepo(session).for_activations(a.id for a in active if a.id)
        live = {(account_id, k.key_encrypted) for account_id, k in keys.items()
                if k.key_encrypted}
        for gone in set(self._poll_keys) - live:
            del self._poll_keys[gone]
        return active, {i: [c.code for c in rows] for i, rows in codes.items()}, keys

    def poll_key(self, account_id: int, key_encrypted: str | None) -> str | None:
        """The account's key, decrypted once for as long as it stays the same (see
        _poll_keys); None when there is none or it does not decrypt."""
        if not key_encrypted:
            return None
        cache_key = (account_id, key_encrypted)
        if cache_key in self._poll_keys:
            return self._poll_keys[cache_key]
        try:
            key: str | None = self.keybox.decrypt(key_encrypted)
        except KeyDecryptError:
            log.error("key of account %s does not decrypt (SECRET_KEY changed?)", account_id)
            key = None
        self._poll_keys[cache_key] = key
        return key

    async def with_codes(self, activation_id: int) -> tuple[Activation | None, list[str]]:
        """One activation and its recorded codes, oldest first."""
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
            codes = await CodeRepo(session).for_activation(activation_id)
        return a, [c.code for c in codes]

    async def forget_idle_retired(self) -> int:
        """Wipe the keys of retired accounts with nothing running; returns how many."""
        async with self.db() as session:
            return await AccountRepo(session, self.keybox).forget_idle_retired()
