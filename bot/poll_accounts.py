"""Asking the provider about one account's activations, and backing off when it fails.

The poller (bot/poller.py) builds on this: it runs `_poll_account` per account each tick
and acts on the Observations it hands to `_dispatch`. A failing account backs off on its
own, never for long (MAX_BACKOFF); a rejected key is believed only once getBalance agrees.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.activations import ActivationManager
from bot.coordination.leases import AccountLeases
from bot.koala import BadAction, BadKey, KoalaError, NoActivation, StatusResult
from bot.koala.models import ActiveActivation
from bot.observations import Observation, observation_from_row
from storage.models import Activation
from storage.repos import PollKey

log = logging.getLogger(__name__)

# Seconds between tries of an account that keeps failing. Short on purpose: once the
# provider answers again a code must show up within ~15 s (this, a tick, one request),
# and one request per account every 10 s is still polite.
MAX_BACKOFF = 10.0
BAD_KEY_PAUSE = 600.0
# A request still unanswered after this long gives its shared request slot back (see
# AccountPolling._request). Answers on a healthy provider take tens of milliseconds.
SLOW_AFTER = 1.0  # a key rejected twice (list, then balance) is not polled before this


@dataclass(frozen=True, slots=True)
class AccountPause:
    """Why and for how long an account is not polled (for logs, tests and inspection)."""

    failures: int
    retry_in: float  # seconds until the next try


@dataclass(slots=True)
class _Backoff:
    failures: int = 0
    next_try: float = 0.0  # Poller.monotonic time
    reported: bool = False  # a long pause was logged once, not every tick
    slow: bool = False  # a request outlived SLOW_AFTER: suspect slots until it answers



class RequestSlots:
    """The shared request slots: how many provider requests may be starting at once.

    Their number follows the load (Little's law: requests in flight = requests per second
    x seconds per request). A fixed 8 let through at most 8 / (time per request) requests
    a second: 1,000 accounts asked every 2 s at 16 ms a request (loopback, a busy event
    loop) already did not fit, rounds waited seconds for a slot and their accounts missed
    whole ticks; at a real provider's 100-300 ms a request, 8 slots poll ~100 accounts a
    tick. `size_for` gives each tick enough slots for its accounts' requests to be sent
    within half an interval, from the recent time per request, between `least` and
    `most` (the client's connection pool is larger: see bot/koala/client.py)."""

    def __init__(self, least: int, most: int) -> None:
        self.least, self.most = least, max(least, most)
        self.limit = least
        self.in_use = 0
        self.per_request = 0.05  # seconds, a moving average of answered requests
        self._waiters: deque[asyncio.Future[None]] = deque()

    def size_for(self, requests: int, within: float) -> int:
        """Resize for `requests` to be sent within `within` seconds; the new limit."""
        # Twice what the average needs: answers come in bursts (a busy event loop reads
        # several at once), and a request that waits for a slot is polled late.
        wanted = math.ceil(2 * requests * self.per_request / max(within, 1e-3))
        self.limit = min(self.most, max(self.least, wanted))
        self._wake()
        return self.limit

    def observe(self, seconds: float) -> None:
        self.per_request += (seconds - self.per_request) * 0.05

    async def acquire(self) -> None:
        if self.in_use < self.limit and not self._waiters:
            self.in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot is ours once set (see _wake)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over, then cancelled: give it on
            elif waiter in self._waiters:  # _wake may have dropped it already
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.in_use -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)

    def locked(self) -> bool:
        return self.in_use >= self.limit


class AccountPolling:
    """The provider-facing half of the Poller (its state is set up by Poller.__init__)."""

    manager: ActivationManager
    interval: float
    monotonic: Callable[[], float]
    _request_slots: RequestSlots
    slow_after: float = SLOW_AFTER
    _suspect_slots: asyncio.Semaphore
    _backoff: dict[int, _Backoff]
    leases: AccountLeases | None

    async def _leased(self, by_account: dict[int, list[Activation]]
                      ) -> dict[int, list[Activation]]:
        """The accounts this instance polls this tick. One instance (no leases): all of
        them. Several (PostgreSQL): those whose lease it holds, renewed or taken now
        (bot/coordination/leases.py); the others' money rules run where they are polled."""
        if self.leases is None:
            return by_account
        mine = await self.leases.settle(set(by_account))
        return {i: acts for i, acts in by_account.items() if i in mine}

    def _dispatch(self, acts: list[Activation], observed: dict[int, Observation]) -> None:
        raise NotImplementedError  # the Poller acts on the answers

    async def _request(self, call: Callable[[], Awaitable[Any]], account_id: int) -> Any:
        """One provider request, bounded by its budget from when it is sent.

        The shared request slots bound how many requests are *starting* at once, not how
        long one may take: a request still out after SLOW_AFTER gives its shared slot back
        and marks its account slow, so a key that hangs holds a shared slot for a moment,
        never for its whole time-out (eight hanging keys once held all eight slots for
        10 s, and every other account's poll waited behind them). An account that is
        slow, or whose last round failed, asks through the suspect slots, held for the
        whole request: the slow keys wait for one another, never the healthy ones."""
        state = self._backoff.get(account_id)
        if state is not None and (state.failures or state.slow):
            async with self._suspect_slots, asyncio.timeout(self._request_budget()):
                return await call()
        slots = self._request_slots
        await slots.acquire()
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()
                self._backoff.setdefault(account_id, _Backoff()).slow = True

        loop = asyncio.get_running_loop()
        # A timer, not a task and a wait per request: at thousands of requests a tick
        # the bookkeeping around a request costs as much as the request.
        timer = loop.call_later(self.slow_after, give_back)
        sent = loop.time()
        try:
            # The budget starts when the request is sent, not while it waited for a slot.
            async with asyncio.timeout(self._request_budget()):
                answer = await call()
            slots.observe(loop.time() - sent)
            return answer
        finally:
            timer.cancel()
            if held:
                held = False
                slots.release()

    def _failed(self, account_id: int, *, pause: float | None = None,
                since: float | None = None) -> _Backoff:
        """Back off after a failed round. `since` (when the round began) counts a round
        that hung until its time-out as part of the pause, so a provider that recovers
        meanwhile is asked again soon."""
        state = self._backoff.setdefault(account_id, _Backoff())
        state.failures += 1
        # The exponent is bounded: a float overflows after ~1000 doublings.
        delay = pause if pause is not None else min(
            self.interval * 2 ** min(state.failures, 16), max(MAX_BACKOFF, self.interval))
        state.next_try = (self.monotonic() if since is None else since) + delay
        return state

    def account_pause(self, account_id: int) -> AccountPause | None:
        """The account's current pause, or None when it is polled every tick."""
        state = self._backoff.get(account_id)
        if state is None or not state.failures:
            return None  # not paused (perhaps slow: see _request)
        return AccountPause(state.failures, max(0.0, state.next_try - self.monotonic()))

    def _succeeded(self, account_id: int) -> None:
        state = self._backoff.pop(account_id, None)
        if state is not None and state.failures:
            log.info("account %s answers again", account_id)

    async def _poll_account(self, account_id: int, acts: list[Activation],
                            account: PollKey) -> None:
        started = self.monotonic()
        key = self.manager.poll_key(account_id, account.key_encrypted)
        if key is None:
            # Nothing can be asked without the key; the money rules still run on our data
            # (the manager refuses provider calls and the activation waits for its end).
            state = self._failed(account_id, pause=BAD_KEY_PAUSE)
            if not state.reported:
                state.reported = True
                log.warning("account %s has no usable key; its activations wait", account_id)
            self._dispatch(acts, {})  # the end-of-life rule still closes them in time
            return
        manager = self.manager
        observed: dict[int, Observation] = {}
        by_provider_id = {a.provider_id: a for a in acts}
        if manager.has_active_list:
            try:
                rows: list[ActiveActivation] = await self._request(
                    lambda: manager.list_active(key), account_id)
            except BadKey:
                rejected = await self._key_rejected(key, account_id)
                if rejected is None:  # can't tell now: an ordinary failure
                    self._failed(account_id, since=started)
                    self._dispatch(acts, {})
                    return
                if rejected:
                    state = self._failed(account_id, pause=BAD_KEY_PAUSE)
                    if not state.reported:
                        state.reported = True
                        log.warning("account %s: the provider rejects its key; pausing "
                                    "its polls", account_id)
                    self._dispatch(acts, {})  # the money rules still run during the pause
                    return
                # One wrong NO_KEY: the statuses are asked one by one below this tick.
                log.info("account %s: NO_KEY from the list, but the key works", account_id)
            except BadAction:
                pass  # the client remembered it; statuses are checked one by one below
            except (KoalaError, TimeoutError) as exc:
                state = self._failed(account_id, since=started)
                log.info("account %s: activation list failed (%s); next try in %.1fs",
                         account_id, getattr(exc, "text", "time-out"),
                         state.next_try - self.monotonic())
                self._dispatch(acts, {})
                return
            else:
                for row in rows:
                    if row.currency is not None and account.currency is None:
                        # Once per account: the tick's query reads the currency learnt.
                        await self.manager.learn_currency(account_id, row.currency)
                        account = PollKey(account.key_encrypted, row.currency)
                    a = by_provider_id.get(row.activation_id)
                    if a is not None and a.id is not None:
                        observed[a.id] = observation_from_row(row)
        missing = [a for a in acts if a.id not in observed]
        if missing:
            results = await asyncio.gather(*(self._status(key, a) for a in missing))
            for a, seen in zip(missing, results, strict=True):
                assert a.id is not None
                observed[a.id] = seen
            if all(seen.status is None and not seen.unknown for seen in results):
                self._failed(account_id, since=started)  # the provider did not answer at all
                self._dispatch(acts, observed)
                return
        self._succeeded(account_id)
        self._dispatch(acts, observed)

    async def _key_rejected(self, key: str, account_id: int) -> bool | None:
        """Asks again (getBalance) before believing a rejected key: one spurious NO_KEY
        must not stop an account's polls for minutes. None: no answer either way."""
        manager = self.manager
        try:
            await self._request(lambda: manager.balance(key), account_id)
        except BadKey:
            return True
        except (KoalaError, TimeoutError):
            return None
        return False

    def _request_budget(self) -> float:
        # A request is bounded; the client's own time-out and retries may be longer.
        return max(10.0, self.interval * 5)

    async def _status(self, key: str, a: Activation) -> Observation:
        manager = self.manager
        try:
            status: StatusResult = await self._request(
                lambda: manager.status(key, a.provider_id), a.account_id)
        except NoActivation:
            return Observation(None, unknown=True)
        except (KoalaError, TimeoutError) as exc:
            log.info("status of activation %s not known this tick: %s", a.id,
                     getattr(exc, "text", "time-out"))
            return Observation(None)
        return Observation(status)
