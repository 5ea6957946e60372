"""The poller: asks the provider about running activations and acts on the answers.

An APScheduler interval job ticks every POLL_INTERVAL seconds. Our tables, not the job
store, say what to poll, so a restart resumes everything. Each tick:

* re-sends codes stored but not delivered (one query when there are none);
* reads the running activations with their accounts' encrypted keys and their codes (two
  queries however many accounts; keys are decrypted once per account, see
  ActivationCore.poll_key);
* asks the provider once per account (getActiveActivations), accounts in parallel, and
  checks one by one (getStatusV2) what the list does not show. An account with only old
  numbers is asked every few ticks (the adaptive interval, see FAST_FOR). The rounds of
  a tick start spread over most of the interval, each account at its own fixed phase
  (SPREAD), so answers and codes come at an even rate rather than all at the tick;
* hands every answer to the ActivationManager, which records, moves and notifies, and
  applies the money rules: a cancel that was asked for too early, the end of life.

Slow parts never hold the tick: each account and each activation is its own task, a
tick only starts work for what is not already being worked on, and it waits for that
work no longer than its budget. A failing account backs off on its own, never for long
(MAX_BACKOFF); a rejected key is believed only once getBalance agrees, and even then
the money rules keep running on our data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import card_refresh
from bot.activations import ActivationManager, Outcome, Result
from bot.chat_queue import BACKGROUND
from bot.coordination.leases import AccountLeases
from bot.koala import (
    SmsStatus,
    StatusResult,
)
from bot.money_rules import Due, due
from bot.observations import Observation, needs_work, new_codes
from bot.poll_accounts import AccountPolling, RequestSlots, _Backoff
from storage.models import Activation
from storage.states import ActivationState

log = logging.getLogger(__name__)

# Provider requests starting at once, over all accounts: at least this many, more as the
# accounts asked per tick and the time per request need (bot/poll_accounts.RequestSlots).
MAX_PARALLEL_REQUESTS = 8
MOST_PARALLEL_REQUESTS = 256
SEND_WITHIN = 0.5  # of an interval: the time a tick's requests are spread over
# A tick's rounds start spread over this much of the interval, each account at its own
# fixed phase (see Poller._phase), rather than all at the tick: a code found is then
# recorded and sent while the event loop is not busy with a thousand other answers (at
# 1,000 keys, recording a code took 0.33 s at the median behind the tick's burst), and
# at 30 codes/s the codes come to the bot's 30 messages a second as they arrive instead
# of 60 at once every 2 s. Left: room for a round to end before its next tick.
SPREAD = 0.75
SUSPECT_REQUESTS = 4  # more, for accounts whose last round failed (hanging keys)
MAX_PARALLEL_WORK = 32  # activations being acted on at once (chat messages only queued)
MAX_MONEY_BACKOFF = 5.0  # between tries of a cancel / complete that failed
FORGET_RETIRED_EVERY = 60.0
# The adaptive interval. Most SMS come within the first minute or two after a purchase
# (or after asking for another code), and the delivery target (p50 <= 1.2 s, p99 <= 2.5 s
# at POLL_INTERVAL=2) is about those: an account is polled every tick while any of its
# numbers is younger than FAST_FOR and still waits for its first code, waits for another
# code (RETRY), has a cancel asked for, or nears its end (money rules: the provider's word
# matters there). 180 s covers the usual SMS window with a minute to spare. A number whose
# code came waits for nothing until its owner asks for another (RETRY, fast again), so it
# counts as old. An account with only such numbers is polled every SLOW_POLL seconds: a
# late or second SMS then waits at most that long (plus a tick), and such an account
# costs 6 instead of 30 calls per activation-minute at 2 s.
FAST_FOR = timedelta(seconds=180)
SLOW_POLL = 10.0
NEAR_END = timedelta(seconds=60)  # before end_margin: every tick again
JOB_ID = "koalabot-poll"


class Poller(AccountPolling):
    def __init__(self, *, manager: ActivationManager, interval: float,
                 request_limit: int = MAX_PARALLEL_REQUESTS,
                 request_most: int = MOST_PARALLEL_REQUESTS,
                 work_limit: int = MAX_PARALLEL_WORK,
                 leases: AccountLeases | None = None, spread: float = SPREAD) -> None:
        self.manager = manager
        self.spread = spread  # 0: every round starts at its tick (unit tests)
        self._read_time = 0.0  # seconds a tick takes to read what it polls (average)
        self.leases = leases  # several instances (PostgreSQL): see AccountPolling._leased
        self.interval = interval
        # The end-of-life action runs this early, so two missed ticks still leave room.
        self.end_margin = timedelta(seconds=2 * interval + 5)
        self._request_slots = RequestSlots(request_limit, request_most)
        self._suspect_slots = asyncio.Semaphore(SUSPECT_REQUESTS)  # bot/poll_accounts.py
        self._work_slots = asyncio.Semaphore(work_limit)
        self._scheduler: AsyncIOScheduler | None = None
        self._account_tasks: dict[int, asyncio.Task[None]] = {}
        self._activation_tasks: dict[int, asyncio.Task[None]] = {}
        self._pending_task: asyncio.Task[None] | None = None
        self._backoff: dict[int, _Backoff] = {}  # account id -> its pause
        self._act_backoff: dict[int, _Backoff] = {}  # activation id -> money action pause
        self._last_forget = 0.0
        self._tick_task: asyncio.Task[Any] | None = None
        self._known: dict[int, list[str]] = {}  # codes on record, read once per tick
        self._polled_at: dict[int, int] = {}  # account id -> tick it was last asked at
        # The adaptive interval in ticks: an account with only old numbers is asked every
        # slow_every-th tick (see FAST_FOR, SLOW_POLL).
        self.slow_every = max(1, round(SLOW_POLL / interval))
        self._stopped = False
        self.ticks = 0
        # Pauses and backoffs are measured on this clock (tests replace it with a fake).
        self.monotonic: Callable[[], float] = time.monotonic
        self.observe_tick: Callable[[float], None] = lambda seconds: None  # metrics hook

    # --- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Start ticking; the first tick runs at once (pending codes, then every activation)."""
        if self._scheduler is not None:
            return
        self._stopped = False
        # "Running job ..." at INFO twice per tick would drown the bot's own log.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        scheduler = AsyncIOScheduler()
        scheduler.add_job(
            self.tick, "interval", seconds=self.interval, id=JOB_ID,
            max_instances=1, coalesce=True,
            misfire_grace_time=max(1, int(self.interval * 2)),
            next_run_time=datetime.now().astimezone(),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("poller started: every %.1fs", self.interval)

    @property
    def job(self) -> Any:
        """The scheduler's job (None when stopped), for inspection."""
        return self._scheduler.get_job(JOB_ID) if self._scheduler is not None else None

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop ticking; let running work finish for a moment, then cancel it.

        The scheduler is shut down last: its shutdown cancels a tick in flight, and
        APScheduler logs that cancellation as a job failure with a traceback."""
        self._stopped = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.pause()  # no new tick; one already created sees _stopped and returns
        await asyncio.sleep(0)
        tasks = self._running_tasks()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if self.leases is not None:
            await self.leases.release()  # the others take over now, not at expiry

    def _running_tasks(self) -> list[asyncio.Task[Any]]:
        tasks: list[asyncio.Task[Any]] = [*self._account_tasks.values(),
                                          *self._activation_tasks.values()]
        for extra in (self._pending_task, self._tick_task,
                      card_refresh.running_round(self.manager)):
            if extra is not None and extra is not asyncio.current_task():
                tasks.append(extra)
        return [t for t in tasks if not t.done()]

    # --- one tick --------------------------------------------------------------------

    async def tick(self) -> None:
        """One round. Never raises: a fault is logged and the next tick tries again."""
        if self._stopped:
            return
        self._tick_task = asyncio.current_task()
        BACKGROUND.set(True)  # what the tick starts queues chat messages, never waits
        started = time.monotonic()  # not self.monotonic: tests fake that one
        try:
            await self._tick()
            self.observe_tick(time.monotonic() - started)
        except asyncio.CancelledError:
            if not self._stopped:
                raise
            # stop() cancelled a tick that outlived its grace: that is the shutdown, not
            # a failure (the scheduler would log it as one, with a traceback).
            log.debug("poll tick cancelled by shutdown")
        except Exception:
            log.exception("poll tick failed")
        finally:
            self._tick_task = None

    async def _tick(self) -> None:
        tick_started = time.monotonic()
        self.ticks += 1
        now = self.monotonic()
        if self._pending_task is None or self._pending_task.done():
            self._pending_task = self._spawn(self.manager.deliver_pending(), "deliver pending")
        card_refresh.start_due(self.manager)  # time left on cards, on its own schedule
        await self.manager.intents.settle_open()  # purchases whose answer was lost
        active, self._known, accounts = await self.manager.running_for_poll()
        if now - self._last_forget >= FORGET_RETIRED_EVERY:
            self._last_forget = now
            wiped = await self.manager.forget_idle_retired()
            if wiped:
                log.info("forgot the keys of %d retired accounts", wiped)
        by_account: dict[int, list[Activation]] = {}
        for a in active:
            by_account.setdefault(a.account_id, []).append(a)
        by_account = await self._leased(by_account)  # several instances: my share only
        started = []
        asked: list[tuple[int, list[Activation]]] = []
        for account_id, acts in by_account.items():
            running = self._account_tasks.get(account_id)
            if running is not None and not running.done():
                continue  # the previous round for this account is still out
            pause = self._backoff.get(account_id)
            if pause is not None and now < pause.next_try:
                # Not asked this tick, but its money rules still run on our data: a cancel
                # or the end of life is due whether or not the provider answers polls.
                self._dispatch(acts, {})
                continue
            if not self._poll_due(account_id, acts):
                self._dispatch(acts, {})  # money rules on our data, as during a pause
                continue
            asked.append((account_id, acts))
        # Enough request slots for this tick's rounds to be sent within SEND_WITHIN of it.
        # The spread begins after the tick's usual time for its reads (a moving average,
        # so each account keeps its interval): counted from the tick's start, every phase
        # that had passed while a slow read (5,000 rows: 0.6 s on a busy machine) ran
        # would start at once, as a bunch.
        read = time.monotonic() - tick_started
        self._read_time += (read - self._read_time) * (0.2 if self.ticks > 1 else 1.0)
        begin = tick_started + min(self._read_time, self.interval * 0.25)
        window = self._spread_window(begin - tick_started)
        self._request_slots.size_for(len(asked), window or self.interval * SEND_WITHIN)
        for account_id, acts in asked:
            self._polled_at[account_id] = self.ticks
            round_ = self._poll_account(account_id, acts, accounts[account_id])
            if window:
                delay = begin + self._phase(account_id) * window - time.monotonic()
                round_ = self._after(delay, round_)
            task = self._spawn(round_, f"account {account_id}")
            self._account_tasks[account_id] = task
            started.append(task)
        for gone in set(self._account_tasks) - set(by_account):
            if self._account_tasks[gone].done():
                del self._account_tasks[gone]
        for gone in set(self._polled_at) - set(by_account):
            del self._polled_at[gone]
        self._forget_finished(a.id for a in active if a.id is not None)
        if started and not window:
            # Wait a little so a quick round ends inside its tick; what is slower goes on
            # in the background and its account is skipped until it is done.
            # Counted from the tick's start: a tick that outlived the interval would make
            # the scheduler skip the next one, and everybody's poll would wait for it.
            # Half the interval, not nearly all of it: at 5,000 accounts the tick's own
            # reads take a second on a busy machine, and 0.9 of the interval on top made
            # most ticks overrun (APScheduler skipped 135 of 280 in one run).
            left = tick_started + self.interval * 0.5 - time.monotonic()
            await asyncio.wait(started, timeout=max(left, 0.1))

    def _spread_window(self, begin: float = 0.0) -> float:
        """Seconds over which this tick's rounds start, `begin` seconds into the tick:
        SPREAD of the interval, less twice the recent time per request, so a round started
        last is answered before its account's next tick (a round still out then would
        skip that tick)."""
        if self.spread <= 0:
            return 0.0
        room = self.interval * 0.9 - begin - 2 * self._request_slots.per_request
        return max(0.0, min(self.interval * self.spread, room))

    @staticmethod
    def _phase(account_id: int) -> float:
        """The account's place in a tick's spread, in [0, 1): fixed, so each account is
        asked every interval; consecutive ids fall far apart (the golden ratio's
        fractional multiples fill [0, 1) evenly), so rounds start at an even rate."""
        return (account_id * 0.6180339887498949) % 1.0

    @staticmethod
    async def _after(delay: float, round_: Coroutine[Any, Any, None]) -> None:
        if delay > 0:
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                round_.close()  # never started: no "never awaited" warning
                raise
        await round_

    def _poll_due(self, account_id: int, acts: list[Activation]) -> bool:
        """Whether the account is asked this tick (the adaptive interval, see FAST_FOR)."""
        last = self._polled_at.get(account_id)
        if last is None or self.ticks - last >= self.slow_every:
            return True
        # Each account has its own phase among the slow_every ticks, so old accounts are
        # asked a few every tick, not all on the same one: accounts first seen together
        # (a restart, 5,000 numbers seeded at once) stayed in step, one tick in five
        # asked every one of them, and the young accounts' requests queued behind.
        if (self.ticks + account_id) % self.slow_every == 0:
            return True
        now = self.manager.clock()
        return any(self.needs_fast_poll(a, now) for a in acts)

    def needs_fast_poll(self, a: Activation, now: datetime) -> bool:
        """An activation whose account is asked every tick: just bought and no code yet,
        waiting for another code, a cancel asked for, or near its end."""
        state = ActivationState(a.state)
        return ((state == ActivationState.WAITING and now - a.bought_at < FAST_FOR)
                or state == ActivationState.RETRY
                or a.cancel_requested
                or a.ends_at - now <= self.end_margin + NEAR_END)

    def _spawn(self, coro: Coroutine[Any, Any, object], what: str) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poller: %s failed", what)

        return asyncio.create_task(guarded(), name=f"poller: {what}")

    def _forget_finished(self, active_ids: Iterable[int]) -> None:
        keep = set(active_ids)
        for activation_id in list(self._activation_tasks):
            if self._activation_tasks[activation_id].done():
                del self._activation_tasks[activation_id]
        for activation_id in list(self._act_backoff):
            if activation_id not in keep:
                del self._act_backoff[activation_id]

    # --- asking the provider -------------------------------------------------------

    # --- acting on the answers -------------------------------------------------------

    def _dispatch(self, acts: list[Activation], observed: dict[int, Observation]) -> None:
        """One task per activation, so a slow chat holds only its own activation."""
        for a in acts:
            assert a.id is not None
            running = self._activation_tasks.get(a.id)
            if running is not None and not running.done():
                continue
            seen = observed.get(a.id, Observation(None))
            now = self.manager.clock()
            if not needs_work(a, seen, self._known.get(a.id, []), now, self.end_margin):
                continue
            rule = due(a, now, end_margin=self.end_margin) is not Due.NOTHING
            self._activation_tasks[a.id] = self._spawn(self._work(a.id, seen, rule),
                                                       f"activation {a.id}")

    async def _work(self, activation_id: int, seen: Observation, rule: bool = True) -> None:
        """`rule`: a money rule was due on the tick's row. When none was, none is after
        this work either (a code, a flag or the provider's cancel never makes one due;
        only the clock does, and the next tick sees that), so its re-read is skipped: two
        statements per code, paid ten times a second at 10 codes/s."""
        async with self._work_slots:
            await self._apply(activation_id, seen)
            if seen.unknown:
                await self._look_up(activation_id)
            if rule:
                await self._money_rules(activation_id)

    async def _look_up(self, activation_id: int) -> None:
        """Neither listed nor known to getStatus: the manager finds out how it ended (a
        code the provider kept is shown; nothing is taken for a refund)."""
        pause = self._act_backoff.get(activation_id)
        if pause is not None and self.monotonic() < pause.next_try:
            return
        await self._money(activation_id, lambda: self.manager.look_up(activation_id))

    async def _apply(self, activation_id: int, seen: Observation) -> None:
        status = seen.status
        if status is None:
            return
        a, known = await self.manager.with_codes(activation_id)
        if a is None or ActivationState(a.state).is_final:
            return
        if status.status == SmsStatus.CANCEL and not ActivationState(a.state).has_code:
            # Ended with no code. At its end, or after a cancel the user asked for, the
            # manager's own path settles it with the right words (it finds the provider
            # already closed it); otherwise the provider cancelled it by itself.
            rule = due(a, self.manager.clock(), end_margin=self.end_margin)
            if rule is not Due.NOTHING:
                await self._run_rule(activation_id, rule)
                return
        if seen.codes and status.status == SmsStatus.OK:
            fresh = new_codes(known, seen.codes)
            for code in fresh[:-1]:  # earlier codes the list shows but we missed
                await self.manager.apply_status(activation_id, StatusResult(SmsStatus.OK, code))
            if fresh:
                status = StatusResult(SmsStatus.OK, fresh[-1], status.text)
            else:
                status = StatusResult(SmsStatus.WAIT_CODE)
        await self.manager.apply_status(activation_id, status,
                                        can_get_another_sms=seen.can_get_another_sms)

    async def _money_rules(self, activation_id: int) -> None:
        a, _ = await self.manager.with_codes(activation_id)
        if a is None or ActivationState(a.state).is_final:
            return
        pause = self._act_backoff.get(activation_id)
        if pause is not None and self.monotonic() < pause.next_try:
            return
        await self._run_rule(activation_id,
                             due(a, self.manager.clock(), end_margin=self.end_margin))

    async def _run_rule(self, activation_id: int, rule: Due) -> None:
        """Run the manager action a money rule asks for. Near the end: refund it if no code
        came, complete it otherwise. Long past the end, the provider no longer knows it
        (NO_ACTIVATION): the manager then reads its final status, so nothing stays
        "active" for ever."""
        if rule in {Due.COMPLETE_AT_END, Due.REFUND_AT_END}:
            await self._money(activation_id, lambda: self.manager.finish_at_end(activation_id))
        elif rule is Due.CANCEL:
            await self._money(activation_id, lambda: self.manager.cancel(activation_id, auto=True))

    async def _money(self, activation_id: int,
                     action: Callable[[], Awaitable[Result]]) -> None:
        """Run a manager action (cancel / complete). A fault is tried again at once: a
        status change repeated is harmless (a cancel that did happen is then reported
        by the provider as over, and the manager reads the final status). After that,
        and after a refusal, the next try waits a little, but not long: the end nears."""
        result = await action()
        if result.outcome == Outcome.TRANSIENT:
            result = await action()
        if result.outcome in {Outcome.TRANSIENT, Outcome.REFUSED}:
            state = self._act_backoff.setdefault(activation_id, _Backoff())
            state.failures += 1
            delay = min(self.interval * 2 ** min(state.failures - 1, 16), MAX_MONEY_BACKOFF)
            state.next_try = self.monotonic() + delay
            log.info("activation %s: %s (%s); next try in %.1fs", activation_id,
                     result.outcome.value, result.text, delay)
        else:
            self._act_backoff.pop(activation_id, None)
