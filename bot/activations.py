"""The money operations: cancelling, another code, completing, finishing at the end, and
finding out how an activation the provider no longer knows has ended.

Handlers (button presses) and the poller (provider answers) both act through this class;
a lock per activation keeps a press and a poll answer from racing. Buying is in
bot/buying.py, cards in bot/card_publisher.py, code delivery in bot/outbox.py; the shared
part (locks, records, what the poller reports) in bot/activation_core.py.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import datetime, timedelta

from bot.activation_core import UNREADABLE_KEY_GRACE, ActivationCore
from bot.activation_core import Outcome as Outcome  # re-exported: handlers, poller
from bot.activation_core import Result as Result
from bot.buying import PurchaseLost as PurchaseLost  # re-exported: handlers catch it
from bot.buying import PurchasePending as PurchasePending
from bot.koala import (
    BadAction,
    BadStatus,
    EarlyCancelDenied,
    KoalaError,
    NoActivation,
    SmsStatus,
    TransientError,
)
from bot.koala.client import STATUS_CANCEL, STATUS_COMPLETE, STATUS_RETRY
from bot.money_rules import Due, at_end
from storage.models import Activation
from storage.repo import ActivationRepo, CodeRepo
from storage.states import ActivationState

log = logging.getLogger(__name__)


class ActivationManager(ActivationCore):
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


    async def finish_at_end(self, activation_id: int) -> Result:
        """The activation's end is near: refund it if no code came, else complete it."""
        async with self.db() as session:
            a = await ActivationRepo(session).get(activation_id)
        if a is None:
            return Result(Outcome.NOT_FOUND)
        if at_end(a) is Due.COMPLETE_AT_END:
            return await self.complete(activation_id)
        return await self.cancel(activation_id, auto=True, expiring=True)

