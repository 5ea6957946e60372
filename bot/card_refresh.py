"""Keeping the time left on activation cards current, on a coarse schedule.

Cards show relative times ("cancel in 1:58 · 19 min left"). State changes edit the card
where they happen (bot/activations.py); this module edits it when the clock alone makes
it wrong: when the cancel window opens, at a few thresholds before the end, and at the
end (when a cancel that is not yet confirmed must be shown truthfully).

Telegram's limits: an edit costs about as much as a message (some 30 a second per bot,
about one a second per chat). The schedule below is at most 7 edits per activation over
its ~20 minutes: 1,000 running activations cost about 6 edits a second on average, spread
out since each activation has its own thresholds. Edits go through the Notifier, which
waits out flood control; at most REFRESH_PARALLEL run at once, so a burst (after a
restart, say) is drained gradually instead of tripping it.

`card_refreshed_at` (stored) says when a card was last rendered; a card is due when a
threshold has passed since then, so a restart neither re-edits every card nor skips one.
A card whose edit did not reach the chat (blocked, network) is marked STALE and edited
again once the chat can be reached.

Entry point: `start_due(manager)`, called once per poller tick; it never blocks the tick.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.activations import ActivationManager
from bot.ui.cards import STALE
from storage.models import Activation
from storage.repo import ActivationRepo
from storage.states import ActivationState

log = logging.getLogger(__name__)

# Minutes before the end at which a card's "N min left" is brought up to date.
MINUTES_BEFORE_END = (15, 10, 5, 2, 1)
REFRESH_PARALLEL = 4

_running: weakref.WeakKeyDictionary[ActivationManager, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Each threshold as a distance before the end (the end itself last).
_BEFORE_END = tuple(timedelta(minutes=m) for m in (*MINUTES_BEFORE_END, 0))


class CardClock(Protocol):
    """What says whether a card is due: an Activation, or a row of
    ActivationRepo.card_clocks (the poller's tick reads those, not ORM objects)."""

    @property
    def state(self) -> str: ...
    @property
    def bought_at(self) -> datetime: ...
    @property
    def cancel_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def card_refreshed_at(self) -> datetime | None: ...


def _clock_due(a: CardClock, now: datetime) -> bool:
    """True when a moment at which the clock alone changes what the card should say (a few
    minutes before the end, the end, and the opening of the cancel window) passed since the
    card was last rendered; or when its last edit did not arrive (STALE)."""
    if a.card_refreshed_at is not None and _aware(a.card_refreshed_at) == STALE:
        return True
    last = _aware(a.card_refreshed_at or a.bought_at)
    now = _aware(now)
    ends = _aware(a.ends_at)
    for before in _BEFORE_END:
        if last < ends - before <= now:
            return True
    return (ActivationState(a.state) == ActivationState.WAITING
            and last < _aware(a.cancel_at) <= now)


def is_due(a: Activation, now: datetime) -> bool:
    """True when a threshold passed since the card was last rendered."""
    if a.card_message_id is None or ActivationState(a.state).is_final:
        return False
    return _clock_due(a, now)


def due(active: Iterable[Activation], now: datetime) -> list[Activation]:
    return [a for a in active if is_due(a, now)]


async def refresh_due(manager: ActivationManager) -> int:
    """Edit every card that is due now; returns how many were edited."""
    now = manager.clock()
    async with manager.db() as session:
        rows = await ActivationRepo(session).card_clocks()  # running, with a card
    unreachable = manager.notifier.unreachable
    todo = [row.id for row in rows
            if row.chat_id not in unreachable and _clock_due(row, now)]
    if not todo:
        return 0
    slots = asyncio.Semaphore(REFRESH_PARALLEL)
    results = await asyncio.gather(*(_refresh_one(manager, i, slots) for i in todo))
    return sum(results)


async def _refresh_one(manager: ActivationManager, activation_id: int,
                       slots: asyncio.Semaphore) -> bool:
    async with slots, manager.lock(activation_id):
        # Under the activation's lock, so an edit of an older state can never land after
        # the edit a state change makes.
        now = manager.clock()
        async with manager.db() as session:
            repo = ActivationRepo(session)
            a = await repo.get(activation_id)
            if a is None or not is_due(a, now):
                return False
            # Stored first: a failed edit then marks the card stale again (refresh_card).
            a.card_refreshed_at = now
            a = await repo.save(a)
        await manager.refresh_card(a)
        return True


def running_round(manager: ActivationManager) -> asyncio.Task[None] | None:
    """The refresh round in flight, if any: the poller waits for it (or cancels it) when it
    stops, so no edit is sent after the bot's HTTP session is closed."""
    task = _running.get(manager)
    return task if task is not None and not task.done() else None


def start_due(manager: ActivationManager) -> None:
    """Start a refresh round unless one is still running (called by the poller tick)."""
    running = _running.get(manager)
    if running is not None and not running.done():
        return

    async def guarded() -> None:
        try:
            await refresh_due(manager)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("card refresh failed")

    _running[manager] = asyncio.create_task(guarded(), name="card refresh")
