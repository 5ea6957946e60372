"""The money core: buying, cancelling, completing, recording and delivering codes.

Handlers (button presses) and the poller (provider answers) both act through this class;
a lock per activation keeps a press and a poll answer from racing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.types import InlineKeyboardMarkup

from bot.buying import RECONCILE_DELAY, Buyer
from bot.buying import PurchaseLost as PurchaseLost  # re-exported: handlers catch it
from bot.buying import PurchasePending as PurchasePending
from bot.card_publisher import CardPublisher
from bot.catalog import Catalog
from bot.intents import INTENT_WINDOW, IntentSettler
from bot.koala import (
    BadAction,
    BadStatus,
    EarlyCancelDenied,
    KoalaClient,
    KoalaError,
    NoActivation,
    Purchase,
    SmsStatus,
    StatusResult,
    TransientError,
)
from bot.koala.client import STATUS_CANCEL, STATUS_COMPLETE, STATUS_RETRY
from bot.money_rules import Due, at_end
from bot.notifier import Notifier
from bot.outbox import Outbox
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import Account, Activation, PurchaseIntent, utcnow
from storage.repo import (
    AccountRepo,
    ActivationRepo,
    CodeRepo,
)
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


class ActivationManager:
    def __init__(self, *, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 catalog: Catalog, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow,
                 reconcile_delay: float = RECONCILE_DELAY,
                 intent_window: float = INTENT_WINDOW) -> None:
        self.db = db
        self.keybox = keybox
        self.koala = koala
        self.catalog = catalog
        self.notifier = notifier
        self.clock = clock
        self._locks: dict[int, asyncio.Lock] = {}
        self.cards = CardPublisher(db=db, catalog=catalog, notifier=notifier, clock=clock)
        self.outbox = Outbox(db=db, catalog=catalog, notifier=notifier,
                             card_publisher=self.cards, lock=self.lock)
        self.intents = IntentSettler(self, window=intent_window)
        self.buying = Buyer(db=db, keybox=keybox, koala=koala, clock=clock,
                            intents=self.intents, reconcile_delay=reconcile_delay)

    def lock(self, activation_id: int) -> asyncio.Lock:
        lock = self._locks.get(activation_id)
        if lock is None:
            lock = self._locks[activation_id] = asyncio.Lock()
        return lock

    def _forget_lock(self, activation_id: int) -> None:
        lock = self._locks.get(activation_id)
        if lock is not None and not lock.locked():
            del self._locks[activation_id]

    def api_key(self, account: Account) -> str:
        return self.keybox.decrypt(account.key_encrypted)

    async def learn_currency(self, account_id: int, currency: int | None) -> None:
        await self.buying.learn_currency(account_id, currency)

    # --- buying (bot/buying.py) ------------------------------------------------------

    async def purchase(self, *, account: Account, chat_id: int, buyer_id: int, service: str,
                       country: int | None, max_price: float | None,
                       provider_id: int | None = None,
                       menu_message_id: int | None = None) -> Activation:
        """Buy with getNumberV2 (once: never retried) and store the activation. Raises the
        provider's error untouched (nothing was bought) or PurchasePending (lost answer)."""
        return await self.buying.purchase(
            account=account, chat_id=chat_id, buyer_id=buyer_id, service=service,
            country=country, max_price=max_price, provider_id=provider_id,
            menu_message_id=menu_message_id)

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

    async def cancel(self, activation_id: int, *, auto: bool = False,
                     expiring: bool = False) -> Result:
        """Cancel (setStatus 8). Too early: remembered and done by the poller later."""
        async with self.lock(activation_id):
            a, key = await self._load(activation_id)
            if a is None:
                return Result(Outcome.NOT_FOUND)
            state = ActivationState(a.state)
            if state.is_final:
                return Result(Outcome.FINAL, a)
            if state.has_code:
                return Result(Outcome.HAS_CODE, a)
            if key is None:
                if expiring and self.clock() >= a.ends_at + UNREADABLE_KEY_GRACE:
                    a = await self._move(a, ActivationState.EXPIRED)
                    await self.refresh_card(a)
                    await self._notice(a, "act.notice.expired_unconfirmed")
                    return Result(Outcome.DONE, a)
                return Result(Outcome.REFUSED, a, "no API key")
            if not expiring and self.clock() < a.cancel_at:
                return await self._schedule_cancel(a, a.cancel_at)
            try:
                answer = await self.koala.set_status(key, a.provider_id, STATUS_CANCEL)
            except EarlyCancelDenied:
                # Our clock ran ahead of the provider's: try again a little later.
                return await self._schedule_cancel(a, self.clock() + timedelta(seconds=20))
            except TransientError as exc:
                return Result(Outcome.TRANSIENT, a, exc.text)
            except (NoActivation, BadStatus) as exc:
                return await self._settle_after_refusal(a, key, exc, expiring=expiring,
                                                        auto=auto)
            except KoalaError as exc:
                return Result(Outcome.REFUSED, a, exc.text)
            if answer != "ACCESS_CANCEL":
                return Result(Outcome.REFUSED, a, answer)
            target = ActivationState.EXPIRED if expiring else ActivationState.CANCELLED
            a = await self._move(a, target)
        await self.refresh_card(a)
        if expiring:
            await self._notice(a, "act.notice.expired")
        elif auto:
            await self._notice(a, "act.notice.cancelled")
        self._forget_lock(activation_id)
        return Result(Outcome.DONE, a)

    async def _schedule_cancel(self, a: Activation, at: datetime) -> Result:
        changed = not a.cancel_requested or a.cancel_at != at
        a = await self._move(a, ActivationState(a.state), cancel_requested=True, cancel_at=at)
        if changed:
            await self.refresh_card(a)
        return Result(Outcome.SCHEDULED, a)

    async def _settle_after_refusal(self, a: Activation, key: str, exc: KoalaError, *,
                                    expiring: bool, auto: bool = False) -> Result:
        """The provider refused a cancel: find out what the activation really is."""
        try:
            status = await self.koala.get_status_v2(key, a.provider_id)
        except NoActivation:
            # Not "cancelled": the provider may have completed it on its side.
            return await self._settle_gone(a, key, expiring=expiring, auto=auto or expiring)
        except KoalaError:
            return Result(Outcome.REFUSED, a, exc.text)
        if status.status == SmsStatus.OK and status.code:
            await self._record_and_deliver(a, status.code, status.text)
            return Result(Outcome.HAS_CODE, a)
        if status.status == SmsStatus.CANCEL:
            # Ended without a code: the provider itself refunded it. Our cancel was refused,
            # so the notice must not say that we cancelled it.
            target = ActivationState.EXPIRED if expiring else ActivationState.CANCELLED
            a = await self._move(a, target)
            await self.refresh_card(a)
            if expiring:
                await self._notice(a, "act.notice.expired_elsewhere")
            return Result(Outcome.DONE, a)
        return Result(Outcome.REFUSED, a, exc.text)

    async def look_up(self, activation_id: int) -> Result:
        """The poller found the activation neither on the provider's list nor known to
        getStatus (NO_ACTIVATION): find out how it ended and tell the chat."""
        async with self.lock(activation_id):
            a, key = await self._load(activation_id)
            if a is None:
                return Result(Outcome.NOT_FOUND)
            if ActivationState(a.state).is_final:
                return Result(Outcome.FINAL, a)
            if key is None:
                return Result(Outcome.REFUSED, a, "no API key")
            if not self.koala.has_active_list:
                # No list to give a second opinion: getStatus is asked once more, so one
                # wrong NO_ACTIVATION does not end an activation that still runs.
                try:
                    await self.koala.get_status_v2(key, a.provider_id)
                except NoActivation:
                    pass
                except TransientError as exc:
                    return Result(Outcome.TRANSIENT, a, exc.text)
                except KoalaError as exc:
                    return Result(Outcome.REFUSED, a, exc.text)
                else:
                    return Result(Outcome.REFUSED, a, "NO_ACTIVATION")  # the next poll reads it
            return await self._settle_gone(a, key, expiring=False, auto=True)

    async def _settle_gone(self, a: Activation, key: str, *, expiring: bool,
                           auto: bool) -> Result:
        """NO_ACTIVATION: over on the provider's side, or a wrong answer. It is never taken
        for a refund: the active list is asked again (still running: nothing changed), then
        the history (a code there is shown). Called under the activation's lock."""
        if self.koala.has_active_list:
            try:
                rows = await self.koala.get_active_activations(key)
            except BadAction:
                pass  # the client remembered it; the history is next
            except TransientError as exc:
                return Result(Outcome.TRANSIENT, a, exc.text)
            except KoalaError as exc:
                return Result(Outcome.REFUSED, a, exc.text)
            else:
                row = next((r for r in rows if r.activation_id == a.provider_id), None)
                if row is not None:
                    if row.code:
                        await self._record_and_deliver(a, row.code, row.text)
                        return Result(Outcome.HAS_CODE, a)
                    return Result(Outcome.REFUSED, a, "NO_ACTIVATION")  # it still runs
        try:
            a = await self._codes_from_history(a, key)
        except TransientError as exc:
            return Result(Outcome.TRANSIENT, a, exc.text)
        except KoalaError as exc:
            return Result(Outcome.REFUSED, a, exc.text)
        if ActivationState(a.state).has_code:
            # A code came, so the price is spent whatever the provider did next.
            a = await self._move(a, ActivationState.COMPLETED)
            await self.refresh_card(a)
            if auto:
                await self._notice(a, "act.notice.completed_by_provider")
            return Result(Outcome.GONE_COMPLETED, a)
        log.warning("activation %s: the provider no longer knows it and shows no code",
                    a.id)
        a = await self._move(a, ActivationState.UNKNOWN)
        await self.refresh_card(a)
        if auto:
            await self._notice(a, "act.notice.unknown")
        return Result(Outcome.UNKNOWN, a)

    async def _codes_from_history(self, a: Activation, key: str) -> Activation:
        """Record and deliver the codes the provider's history shows and we lack (a
        provider that ended an activation on its side may have kept one). Raises the
        client's errors; without a history nothing changes."""
        entry = await self.koala.find_in_history(key, a.provider_id)
        if entry is None or not entry.codes:
            return a
        async with self.db() as session:
            known = [c.code for c in await CodeRepo(session).for_activation(a.id or 0)]
        shown = list(entry.codes)
        fresh = shown[len(known):] if shown[:len(known)] == known else shown[-1:]
        if fresh and a.cancel_requested:  # no "kept the number" notice: it is over
            a = await self._move(a, ActivationState(a.state), cancel_requested=False)
        for code in fresh:
            await self._record_and_deliver(a, code, entry.text if code == shown[-1] else None)
            reloaded, _ = await self._load(a.id or 0)
            assert reloaded is not None
            a = reloaded
        return a

    async def another(self, activation_id: int) -> Result:
        """Ask for another code on the same number (setStatus 3)."""
        async with self.lock(activation_id):
            a, key = await self._load(activation_id)
            if a is None:
                return Result(Outcome.NOT_FOUND)
            state = ActivationState(a.state)
            if state.is_final:
                return Result(Outcome.FINAL, a)
            if state != ActivationState.RECEIVED:
                return Result(Outcome.NO_CODE if state == ActivationState.WAITING
                              else Outcome.DONE, a)
            if not a.can_get_another_sms:
                return Result(Outcome.UNAVAILABLE, a)
            if key is None:
                return Result(Outcome.REFUSED, a, "no API key")
            try:
                answer = await self.koala.set_status(key, a.provider_id, STATUS_RETRY)
            except TransientError as exc:
                return Result(Outcome.TRANSIENT, a, exc.text)
            except KoalaError as exc:
                return Result(Outcome.REFUSED, a, exc.text)
            if answer != "ACCESS_RETRY_GET":
                return Result(Outcome.REFUSED, a, answer)
            a = await self._move(a, ActivationState.RETRY)
        await self.refresh_card(a)
        return Result(Outcome.DONE, a)

    async def complete(self, activation_id: int) -> Result:
        """Finish an activation that got its code (setStatus 6)."""
        async with self.lock(activation_id):
            a, key = await self._load(activation_id)
            if a is None:
                return Result(Outcome.NOT_FOUND)
            state = ActivationState(a.state)
            if state.is_final:
                return Result(Outcome.FINAL, a)
            if not state.has_code:
                return Result(Outcome.NO_CODE, a)
            if key is not None:
                try:
                    answer = await self.koala.set_status(key, a.provider_id, STATUS_COMPLETE)
                except TransientError as exc:
                    return Result(Outcome.TRANSIENT, a, exc.text)
                except (NoActivation, BadStatus):
                    answer = "ACCESS_ACTIVATION"  # the provider already closed it
                    with suppress(KoalaError):  # a code it got meanwhile is still shown
                        a = await self._codes_from_history(a, key)
                except KoalaError as exc:
                    return Result(Outcome.REFUSED, a, exc.text)
                if answer != "ACCESS_ACTIVATION":
                    return Result(Outcome.REFUSED, a, answer)
            a = await self._move(a, ActivationState.COMPLETED)
        await self.refresh_card(a)
        self._forget_lock(activation_id)
        return Result(Outcome.DONE, a)

    # --- what the poller reports ---------------------------------------------------

    async def apply_status(self, activation_id: int, status: StatusResult,
                           *, can_get_another_sms: bool | None = None) -> None:
        """Bring our record in line with the provider's view of one activation."""
        async with self.lock(activation_id):
            a, _ = await self._load(activation_id)
            if a is None or ActivationState(a.state).is_final:
                return
            if can_get_another_sms is not None and can_get_another_sms != a.can_get_another_sms:
                a = await self._move(a, ActivationState(a.state),
                                     can_get_another_sms=can_get_another_sms)
            if status.status == SmsStatus.OK and status.code:
                await self._record_and_deliver(a, status.code, status.text)
            elif status.status == SmsStatus.WAIT_RESEND and not a.resend_requested:
                a = await self._move(a, ActivationState(a.state), resend_requested=True)
                await self.refresh_card(a)
            elif status.status == SmsStatus.CANCEL:
                a = await self._move(a, ActivationState.PROVIDER_CANCELLED)
                await self.refresh_card(a)
                await self._notice(a, "act.notice.provider_cancelled")
            # WAIT_CODE and WAIT_RETRY:<old code> bring nothing new.

    async def _record_and_deliver(self, a: Activation, code: str, text: str | None) -> None:
        """Store a new code first, then move the state, then send it (called under lock)."""
        assert a.id is not None
        row = await self.outbox.store(a, code, text)
        if row is None:
            return
        dropped_cancel = a.cancel_requested
        if ActivationState(a.state) in {ActivationState.WAITING, ActivationState.RETRY}:
            a = await self._move(a, ActivationState.RECEIVED, cancel_requested=False,
                                 resend_requested=False)
        # Why a number due to be cancelled was kept goes on its card, not in one more message.
        await self.refresh_card(a, note="act.notice.cancel_dropped" if dropped_cancel else None)
        await self.outbox.deliver(a, row)

    async def deliver_pending(self) -> int:
        """Send codes stored but not delivered (bot/outbox.py)."""
        return await self.outbox.deliver_pending()

    async def finish_at_end(self, activation_id: int) -> Result:
        """The activation's end is near: refund it if no code came, else complete it."""
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
        if a is None:
            return Result(Outcome.NOT_FOUND)
        if at_end(a) is Due.COMPLETE_AT_END:
            return await self.complete(activation_id)
        return await self.cancel(activation_id, auto=True, expiring=True)
