"""Telegram's sending limits, kept before a request goes rather than learnt from a 429.

A Pacer answers "may one more message go to this chat now, and if not, how long until it
may": one budget per chat (about 1 message a second in a private chat with a small burst;
20 a minute in a group) and one for the whole bot (about 30 a second). Each budget is a
GCRA token bucket: one number per budget, the theoretical arrival time (TAT) of the next
request; a request is allowed when TAT - now <= the burst tolerance, and moves TAT on by
one interval. A request takes a token from its chat and from the bot's budget together,
or from neither.

Codes are urgent: a request that is not (a card edit, a notice) leaves the last
URGENT_RESERVE tokens of the bot's budget to codes. A 429 holds the chat's budget until
its retry_after, so every sender (and every instance, with Redis) waits it out.

MemoryPacer serves one process (the default). RedisPacer (bot/pacing_redis.py, when
REDIS_URL is set) keeps the same budgets in Redis so that several instances pace a chat
once between them, not once each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far TAT may run ahead of now: burst - 1 requests at once."""
        return (self.burst - 1) * self.interval

    def most_in(self, seconds: float) -> int:
        """The most requests any window of `seconds` can hold (burst + what refills)."""
        return self.burst + int(seconds * self.per_second)


# Any 1 s window of a private chat holds at most 4 messages, any 10 s at most 13.
PRIVATE = Rate(per_second=1.0, burst=3)
# Any 60 s window of a group holds at most 5 + 15 = 20 (Telegram: 20 a minute).
GROUP = Rate(per_second=15 / 60, burst=5)
# The whole bot: about 30 a second.
GLOBAL = Rate(per_second=30.0, burst=10)
URGENT_RESERVE = 3  # tokens of the bot's budget only codes may take

GLOBAL_KEY = 0  # chat ids are never 0


def chat_rate(chat_id: int) -> Rate:
    return PRIVATE if chat_id > 0 else GROUP


class Pacer(Protocol):
    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        """Return when one more request to `chat_id` may go (its token is taken)."""

    async def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: no request to the chat for `seconds`."""

    def peek(self, chat_id: int) -> float:
        """About how long a request to the chat would wait now, as far as this instance
        knows (nothing taken): a hint for folding messages into edits, not a promise."""

    async def close(self) -> None: ...


def gcra_wait(tat: float, now: float, rate: Rate, reserve: int = 0) -> float:
    """Seconds to wait before a request may take a token (0: now)."""
    allowed_ahead = rate.tolerance - reserve * rate.interval
    return max(0.0, max(tat, now) - now - allowed_ahead)


class MemoryPacer:
    """The budgets of one process."""

    def __init__(self, *, global_rate: Rate = GLOBAL,
                 rates: Callable[[int], Rate] = chat_rate,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.global_rate = global_rate
        self.rates = rates
        self.clock = clock
        self._tat: dict[int, float] = {}

    def try_take(self, chat_id: int, *, urgent: bool) -> float:
        """Take a token now (0.0) or say how long to wait (nothing taken)."""
        now = self.clock()
        rate = self.rates(chat_id)
        chat_tat = self._tat.get(chat_id, now)
        global_tat = self._tat.get(GLOBAL_KEY, now)
        wait = max(gcra_wait(chat_tat, now, rate),
                   gcra_wait(global_tat, now, self.global_rate,
                             0 if urgent else URGENT_RESERVE))
        if wait > 0:
            return wait
        self._tat[chat_id] = max(chat_tat, now) + rate.interval
        self._tat[GLOBAL_KEY] = max(global_tat, now) + self.global_rate.interval
        if len(self._tat) > 4096:
            self._forget_idle(now)
        return 0.0

    def peek(self, chat_id: int) -> float:
        now = self.clock()
        return gcra_wait(self._tat.get(chat_id, now), now, self.rates(chat_id))

    def note_take(self, chat_id: int) -> None:
        """A token of the chat was taken elsewhere (RedisPacer's local view)."""
        now = self.clock()
        self._tat[chat_id] = max(self._tat.get(chat_id, now), now) + self.rates(chat_id).interval

    def _forget_idle(self, now: float) -> None:
        # A TAT in the past is a full bucket: the same as no entry.
        for chat_id in [c for c, tat in self._tat.items() if tat <= now]:
            del self._tat[chat_id]

    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        # The wait is known exactly: nothing to be woken by, so a sleep, not an Event.
        while (wait := self.try_take(chat_id, urgent=urgent)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    async def hold(self, chat_id: int, seconds: float) -> None:
        now = self.clock()
        # Allowed again (one request) at now + seconds, then paced as usual.
        held = now + seconds + self.rates(chat_id).tolerance
        self._tat[chat_id] = max(self._tat.get(chat_id, now), held)

    async def close(self) -> None:
        return None


def make_pacer(redis_url: str | None, *, namespace: str = "koalabot:pace") -> Pacer:
    """Redis when the bot runs as several instances (REDIS_URL), else in memory.
    `namespace`: one per bot token, so two bots sharing a Redis pace apart."""
    if redis_url:
        from bot.pacing_redis import RedisPacer

        return RedisPacer.from_url(redis_url, namespace=namespace)
    return MemoryPacer()
