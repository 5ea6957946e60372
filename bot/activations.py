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

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot.catalog import Catalog
from bot.intents import INTENT_WINDOW, IntentSettler, as_purchase
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
from bot.money import money
from bot.money_rules import Due, at_end
from bot.notifier import ChatUnavailable, Notifier, is_permanent
from bot.texts import Translator
from bot.ui import cards
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import Account, Activation, Code, PurchaseIntent, User, utcnow
from storage.repo import (
    INTENT_ADOPTED,
    INTENT_NONE,
    AccountRepo,
    ActivationRepo,
    CodeRepo,
    IntentRepo,
    UserRepo,
)
from storage.states import ActivationState

log = logging.getLogger(__name__)

# How long after an unanswered purchase the provider's list is first looked at (the
# settler, bot/intents.py, keeps looking after that).
RECONCILE_DELAY = 1.0
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


class PurchaseLost(TransientError):
    """The purchase answer was lost and reconciliation could not tell whether it happened."""


class PurchasePending(PurchaseLost):
    """The purchase answer was lost; its intent stays open and is settled later (the number
    may still show up on the provider's list, or the user is told nothing was bought)."""

    def __init__(self, text: str, *, intent_id: int) -> None:
        super().__init__(text)
        self.intent_id = intent_id


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
        self.reconcile_delay = reconcile_delay
        self._locks: dict[int, asyncio.Lock] = {}
        self._currency_known: set[int] = set()  # accounts whose currency is stored
        self.intents = IntentSettler(self, window=intent_window)

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
        """Store the account's currency the first time an answer names it (once: after
        that no query), so every screen can show its sign."""
        if currency is None or account_id in self._currency_known:
            return
        try:
            async with self.db() as session:
                if await AccountRepo(session, self.keybox).learn_currency(account_id, currency):
                    log.info("account %s pays in currency %s", account_id, currency)
        except Exception as exc:  # only a sign on screens: never fail a purchase for it
            log.warning("currency of account %s not stored: %s", account_id, exc)
            return
        self._currency_known.add(account_id)

    # --- buying --------------------------------------------------------------------

    async def purchase(self, *, account: Account, chat_id: int, buyer_id: int, service: str,
                       country: int | None, max_price: float | None,
                       provider_id: int | None = None,
                       menu_message_id: int | None = None) -> Activation:
        """Buy with getNumberV2 (once: never retried) and store the activation.

        A purchase intent is written first, so that a purchase whose answer is lost (or
        whose bot is killed meanwhile) is found later (bot/intents.py). Raises the
        provider's error (NoNumbers, WrongMaxPrice, ...) untouched: nothing was bought.
        When the answer is lost and one look at getActiveActivations does not settle it,
        raises PurchasePending: the intent stays open and the settler keeps looking.
        """
        assert account.id is not None
        key = self.api_key(account)
        where = "any" if country is None or country < 0 else country
        providers = [provider_id] if provider_id else None
        intent = await self._open_intent(account.id, key, chat_id=chat_id, buyer_id=buyer_id,
                                         service=service, country=country,
                                         max_price=max_price, operator=provider_id,
                                         message_id=menu_message_id)
        assert intent.id is not None
        try:
            try:
                if self.koala.has_number_v2:
                    try:
                        purchase = await self.koala.get_number_v2(
                            key, service, where, max_price=max_price, provider_ids=providers)
                    except BadAction:
                        # Nothing was bought: the provider lacks the action. getNumber does
                        # the same purchase with a shorter answer.
                        self.koala.has_number_v2 = False
                if not self.koala.has_number_v2:
                    purchase = await self.koala.get_number(
                        key, service, where, max_price=max_price, provider_ids=providers)
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

    async def _open_intent(self, account_id: int, key: str, *, chat_id: int, buyer_id: int,
                           service: str, country: int | None, max_price: float | None,
                           operator: int | None, message_id: int | None) -> PurchaseIntent:
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
            country=None if country is None or country < 0 else country, operator=operator,
            max_price=max_price, known_before=known, requested_at=self.clock(),
            message_id=message_id)
        async with self.db() as session:
            session.add(intent)
            await session.flush()
            assert intent.id is not None
            # Marked before it is visible to the settler: this call settles it itself.
            self.intents.in_flight.add(intent.id)
            await session.commit()
            return intent

    async def store_purchase(self, intent: PurchaseIntent, purchase: Purchase) -> Activation:
        """Record a bought number and settle its intent as adopted (in one commit)."""
        started = intent.requested_at
        now = self.clock()
        activation = Activation(
            provider_id=purchase.activation_id, account_id=intent.account_id,
            chat_id=intent.chat_id, buyer_id=intent.buyer_id, service=intent.service,
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

    # --- cards ---------------------------------------------------------------------

    async def _context(self, session_users: UserRepo, a: Activation) -> tuple[Translator, User]:
        user = await session_users.get_or_create(a.buyer_id)
        return Translator(user.language), user

    async def render(self, a: Activation, *,
                     note: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
        """The card as of now (time left is relative: bot/card_refresh.py keeps it current);
        `note` (a text key) adds a last line instead of a message of its own."""
        assert a.id is not None
        async with self.db() as session:
            t, user = await self._context(UserRepo(session), a)
            codes = await CodeRepo(session).for_activation(a.id)
        buyer = None if a.chat_id > 0 else await self._buyer_name(a)
        now = self.clock()
        text = cards.card_text(a, codes, t, self.catalog, now, cards.chosen_tz(user),
                               buyer=buyer)
        if note is not None:
            text += "\n" + t(note)
        return text, cards.card_markup(a, t, now)

    async def _buyer_name(self, a: Activation) -> str:
        try:
            member = await self.notifier.bot.get_chat_member(a.chat_id, a.buyer_id)
        except TelegramAPIError:
            return str(a.buyer_id)
        return member.user.full_name

    async def send_card(self, a: Activation, *, reply_to: int | None = None,
                        note: str | None = None) -> Activation:
        """Post the activation's card and remember its message id.

        One number has one live card: an older copy is turned into a pointer without
        buttons, so no button anywhere acts on an outdated state."""
        rendered_at = self.clock()
        text, markup = await self.render(a, note=note)
        try:
            message = await self.notifier.send(a.chat_id, text, markup=markup, reply_to=reply_to)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("card of activation %s not sent: %s", a.id, exc)
            return a
        # Only the card fields change: `a` may be stale, since the poller can record a
        # code and move the state while the card is being sent.
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is None:
                return a
            old = fresh.card_message_id
            fresh.card_message_id = message.message_id
            fresh.card_refreshed_at = rendered_at
            fresh = await repo.save(fresh)
        if old is not None and old != message.message_id:
            await self._retire_card(fresh, old)
        return fresh

    async def _retire_card(self, a: Activation, message_id: int) -> None:
        async with self.db() as session:
            t, _ = await self._context(UserRepo(session), a)
        try:
            await self.notifier.edit(a.chat_id, message_id,
                                     cards.moved_text(a, t, self.catalog), markup=None)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("old card of activation %s not retired: %s", a.id, exc)

    async def refresh_card(self, a: Activation, *, note: str | None = None) -> None:
        """Edit the card to the activation's state; post a new one if it is gone."""
        if a.card_message_id is None:
            await self.send_card(a, note=note)
            return
        text, markup = await self.render(a, note=note)
        try:
            edited = await self.notifier.edit(a.chat_id, a.card_message_id, text, markup=markup)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("card of activation %s not updated: %s", a.id, exc)
            if isinstance(exc, ChatUnavailable | TelegramNetworkError | TelegramServerError
                          | TelegramRetryAfter):
                # Worth another try once the chat can be reached (bot/card_refresh.py);
                # otherwise the card would keep buttons for a state that is gone.
                await self._mark_card_stale(a)
            return
        if not edited:
            await self.send_card(a, note=note)

    async def _mark_card_stale(self, a: Activation) -> None:
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is not None:
                fresh.card_refreshed_at = cards.STALE
                await repo.save(fresh)

    async def _notice(self, a: Activation, key: str) -> None:
        async with self.db() as session:
            t, _ = await self._context(UserRepo(session), a)
        text = t(key, service=self.catalog.service_name(a.service, t.lang),
                 phone=cards.phone_display(a.phone), price=money(a.cost, a.currency))
        try:
            await self.notifier.send(a.chat_id, text, reply_to=a.card_message_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.info("notice for activation %s not sent: %s", a.id, exc)

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
        async with self.db() as session:
            row = await CodeRepo(session).record(a, code, text)
        if row is None:
            return
        dropped_cancel = a.cancel_requested
        if ActivationState(a.state) in {ActivationState.WAITING, ActivationState.RETRY}:
            a = await self._move(a, ActivationState.RECEIVED, cancel_requested=False,
                                 resend_requested=False)
        # Why a number due to be cancelled was kept goes on its card, not in one more message.
        await self.refresh_card(a, note="act.notice.cancel_dropped" if dropped_cancel else None)
        await self._deliver(a, row)

    async def _deliver(self, a: Activation, code: Code) -> bool:
        """Send a stored code; a long SMS also goes whole as a file. A transient failure
        leaves the code for deliver_pending; a permanent one (Telegram refuses this very
        message) falls back to the bare code once and is never tried again."""
        async with self.db() as session:
            t, _ = await self._context(UserRepo(session), a)
        text, full_sms = cards.code_message(a, code, t, self.catalog)
        try:
            message = await self.notifier.send(
                a.chat_id, text, markup=cards.code_markup(code, t), reply_to=a.card_message_id)
        except ChatUnavailable:
            return False
        except TelegramAPIError as exc:
            if not is_permanent(exc):
                log.warning("code of activation %s not delivered yet: %s", a.id, exc)
                return False
            log.error("code message of activation %s refused (%s); sending the bare code",
                      a.id, exc)
            message_id = await self._deliver_bare(a, code, t)
            async with self.db() as session:
                await CodeRepo(session).mark_delivered(code, message_id)
            return message_id is not None
        async with self.db() as session:
            await CodeRepo(session).mark_delivered(code, message.message_id)
        if full_sms is not None:
            await self._send_sms_file(a, full_sms, t, message.message_id)
        return True

    async def _deliver_bare(self, a: Activation, code: Code, t: Translator) -> int | None:
        try:
            message = await self.notifier.send(a.chat_id, cards.code_plain(code, t),
                                               reply_to=a.card_message_id)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.error("code of activation %s could not be delivered: %s", a.id, exc)
            return None
        return message.message_id

    async def _send_sms_file(self, a: Activation, full_sms: str, t: Translator,
                             reply_to: int) -> None:
        """The whole SMS, when the code message had to cut it. Sent after the code is
        marked delivered: a failure here must not send the code twice."""
        try:
            await self.notifier.send_document(
                a.chat_id, f"sms-{a.phone}.txt", full_sms.encode("utf-8"),
                caption=t("act.sms_file_caption"), reply_to=reply_to)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("full SMS of activation %s not sent: %s", a.id, exc)

    async def deliver_pending(self) -> int:
        """Send codes stored but not delivered (after a crash, a 429 give-up, a 403)."""
        async with self.db() as session:
            pending = await CodeRepo(session).undelivered()
        sent = 0
        for code in pending:
            async with self.lock(code.activation_id):
                async with self.db() as session:
                    a = await ActivationRepo(session).get(code.activation_id)
                    fresh = await session.get(Code, code.id)
                if a is None or fresh is None or fresh.delivered:
                    continue
                if a.chat_id in self.notifier.unreachable:
                    continue
                sent += await self._deliver(a, fresh)
        return sent

    async def finish_at_end(self, activation_id: int) -> Result:
        """The activation's end is near: refund it if no code came, else complete it."""
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
        if a is None:
            return Result(Outcome.NOT_FOUND)
        if at_end(a) is Due.COMPLETE_AT_END:
            return await self.complete(activation_id)
        return await self.cancel(activation_id, auto=True, expiring=True)
