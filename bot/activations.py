"""The money core: buying, cancelling, completing, recording and delivering codes.

Handlers (button presses) and the poller (provider answers) both act through this class;
a lock per activation keeps a press and a poll answer from racing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup

from bot import cards
from bot.catalog import Catalog
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
from bot.notifier import ChatUnavailable, Notifier
from bot.texts import Translator
from storage.crypto import KeyBox
from storage.db import SessionFactory
from storage.models import Account, Activation, Code, User, utcnow
from storage.repo import AccountRepo, ActivationRepo, CodeRepo, UserRepo
from storage.states import ActivationState

log = logging.getLogger(__name__)

# How long after an unanswered purchase a number not yet on our records, for the same
# service, appears on the provider's list (and is then taken to be ours).
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


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    activation: Activation | None = None
    text: str = ""


class PurchaseLost(TransientError):
    """The purchase answer was lost and reconciliation could not tell whether it happened."""


class ActivationManager:
    def __init__(self, *, db: SessionFactory, keybox: KeyBox, koala: KoalaClient,
                 catalog: Catalog, notifier: Notifier,
                 clock: Callable[[], datetime] = utcnow,
                 reconcile_delay: float = RECONCILE_DELAY) -> None:
        self.db = db
        self.keybox = keybox
        self.koala = koala
        self.catalog = catalog
        self.notifier = notifier
        self.clock = clock
        self.reconcile_delay = reconcile_delay
        self._locks: dict[int, asyncio.Lock] = {}
        self._currency_known: set[int] = set()  # accounts whose currency is stored

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
                       provider_id: int | None = None) -> Activation:
        """Buy with getNumberV2 (once: never retried) and store the activation.

        Raises the provider's error (NoNumbers, WrongMaxPrice, ...) untouched. When the
        answer is lost, getActiveActivations tells whether a number was bought, so the
        user never pays for a number the bot does not know about.
        """
        assert account.id is not None
        key = self.api_key(account)
        started = self.clock()
        where = "any" if country is None or country < 0 else country
        providers = [provider_id] if provider_id else None
        try:
            if self.koala.has_number_v2:
                try:
                    purchase = await self.koala.get_number_v2(
                        key, service, where, max_price=max_price, provider_ids=providers)
                except BadAction:
                    # Nothing was bought: the provider lacks the action. getNumber does the
                    # same purchase with a shorter answer.
                    self.koala.has_number_v2 = False
            if not self.koala.has_number_v2:
                purchase = await self.koala.get_number(
                    key, service, where, max_price=max_price, provider_ids=providers)
        except TransientError:
            found = await self._reconcile(account, key, service)
            if found is None:
                raise
            purchase = found
        now = self.clock()
        activation = Activation(
            provider_id=purchase.activation_id, account_id=account.id, chat_id=chat_id,
            buyer_id=buyer_id, service=service,
            country=None if country is None or country < 0 else country,
            phone=purchase.phone,
            cost=purchase.cost if purchase.cost is not None else (max_price or 0.0),
            # getNumber (v1) names no currency: the account's, once known.
            currency=purchase.currency if purchase.currency is not None else account.currency,
            can_get_another_sms=purchase.can_get_another_sms,
            bought_at=started,
            cancel_at=started + timedelta(seconds=purchase.cancel_delay),
            ends_at=started + timedelta(seconds=purchase.lifetime),
            updated_at=now,
        )
        async with self.db() as session:
            existing = await ActivationRepo(session).by_provider_id(account.id,
                                                                    purchase.activation_id)
            stored = existing or await ActivationRepo(session).add(activation)
        await self.learn_currency(account.id, purchase.currency)
        return stored

    async def _reconcile(self, account: Account, key: str, service: str) -> Purchase | None:
        await asyncio.sleep(self.reconcile_delay)
        try:
            rows = await self.koala.get_active_activations(key)
        except KoalaError as exc:
            raise PurchaseLost(f"purchase outcome unknown: {exc.text}") from None
        assert account.id is not None
        async with self.db() as session:
            repo = ActivationRepo(session)
            for row in sorted(rows, key=lambda r: r.activation_id, reverse=True):
                if row.service not in (None, service) or not row.phone:
                    continue
                if await repo.by_provider_id(account.id, row.activation_id) is None:
                    log.warning("purchase answer lost; adopted activation %s", row.activation_id)
                    return Purchase(activation_id=row.activation_id, phone=row.phone,
                                    cost=row.cost, currency=row.currency,
                                    can_get_another_sms=row.can_get_another_sms)
        return None

    # --- cards ---------------------------------------------------------------------

    async def _context(self, session_users: UserRepo, a: Activation) -> tuple[Translator, User]:
        user = await session_users.get_or_create(a.buyer_id)
        return Translator(user.language), user

    async def render(self, a: Activation, *,
                     note: str | None = None) -> tuple[str, InlineKeyboardMarkup]:
        """The card; `note` (a text key) adds a last line instead of a message of its own."""
        assert a.id is not None
        async with self.db() as session:
            t, user = await self._context(UserRepo(session), a)
            codes = await CodeRepo(session).for_activation(a.id)
        buyer = None if a.chat_id > 0 else await self._buyer_name(a)
        text = cards.card_text(a, codes, t, self.catalog, cards.user_tz(user), buyer=buyer)
        if note is not None:
            text += "\n" + t(note)
        return text, cards.card_markup(a, t)

    async def _buyer_name(self, a: Activation) -> str:
        try:
            member = await self.notifier.bot.get_chat_member(a.chat_id, a.buyer_id)
        except TelegramAPIError:
            return str(a.buyer_id)
        return member.user.full_name

    async def send_card(self, a: Activation, *, reply_to: int | None = None,
                        note: str | None = None) -> Activation:
        """Post the activation's card and remember its message id."""
        text, markup = await self.render(a, note=note)
        try:
            message = await self.notifier.send(a.chat_id, text, markup=markup, reply_to=reply_to)
        except (ChatUnavailable, TelegramAPIError) as exc:
            log.warning("card of activation %s not sent: %s", a.id, exc)
            return a
        # Only the message id changes: `a` may be stale, since the poller can record a
        # code and move the state while the card is being sent.
        async with self.db() as session:
            repo = ActivationRepo(session)
            fresh = await repo.get(a.id or 0)
            if fresh is None:
                return a
            fresh.card_message_id = message.message_id
            return await repo.save(fresh)

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
            return
        if not edited:
            await self.send_card(a, note=note)

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
                return await self._settle_after_refusal(a, key, exc, expiring=expiring)
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
                                    expiring: bool) -> Result:
        """The provider refused a cancel: find out what the activation really is."""
        try:
            status = await self.koala.get_status_v2(key, a.provider_id)
        except NoActivation:
            status = StatusResult(SmsStatus.CANCEL)
        except KoalaError:
            return Result(Outcome.REFUSED, a, exc.text)
        if status.status == SmsStatus.OK and status.code:
            await self._record_and_deliver(a, status.code, status.text)
            return Result(Outcome.HAS_CODE, a)
        if status.status == SmsStatus.CANCEL:
            # Ended without a code: the provider itself refunded it.
            target = ActivationState.EXPIRED if expiring else ActivationState.CANCELLED
            a = await self._move(a, target)
            await self.refresh_card(a)
            if expiring:
                await self._notice(a, "act.notice.expired")
            return Result(Outcome.DONE, a)
        return Result(Outcome.REFUSED, a, exc.text)

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
        async with self.db() as session:
            t, _ = await self._context(UserRepo(session), a)
        try:
            message = await self.notifier.send(
                a.chat_id, cards.code_text(a, code, t, self.catalog),
                markup=cards.code_markup(code, t), reply_to=a.card_message_id)
        except ChatUnavailable:
            return False
        except TelegramAPIError as exc:
            log.warning("code of activation %s not delivered yet: %s", a.id, exc)
            return False
        async with self.db() as session:
            await CodeRepo(session).mark_delivered(code, message.message_id)
        return True

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
        if ActivationState(a.state).has_code:
            return await self.complete(activation_id)
        return await self.cancel(activation_id, auto=True, expiring=True)
