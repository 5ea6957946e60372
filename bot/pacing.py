"""Telegram's sending limits, kept before a request goes rather than learnt from a 429.

A Pacer answers "may one more request go to this chat now, and if not, how long until it
may": one budget per chat (about 1 request a second, with a small burst), one for the new
messages of each group (20 a minute) and one for the whole bot (about 30 a second). Each
budget is a GCRA token bucket: one number per budget, the theoretical arrival time (TAT)
of the next request; a request is allowed when TAT - now <= the burst tolerance, and
moves TAT on by one interval. A request takes a token from its chat and from the bot's
budget together, or from neither.

Codes are urgent: a request that is not (a card edit, a notice) leaves the last
URGENT_RESERVE tokens of the bot's budget to codes, and codes take the bot's budget in the
order they asked for it (MemoryPacer.acquire). A 429 holds the chat's budget until
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


# Every request to one chat (messages and edits): any 1 s window holds at most 4.
CHAT = Rate(per_second=1.0, burst=3)
# New messages in one group: any 60 s window holds at most 5 + 15 = 20 (Telegram: 20 a
# minute). Edits do not count here, which is why a busy group gets codes and notices
# folded into its cards (bot/outbox.py, bot/card_publisher.py).
GROUP_MESSAGES = Rate(per_second=15 / 60, burst=5)
# The whole bot: about 30 requests a second.
GLOBAL = Rate(per_second=30.0, burst=10)
# Tokens of the bot's budget only codes may take: an edit or a notice goes only while 8
# of the 10 are free. Codes come in uneven bunches (each is found up to a poll interval
# after its SMS); at 30 codes/s, the whole budget, a reserve of 3 let card edits eat the
# lulls codes need to catch up after a bunch, and a backlog of about a second built up
# and never drained (bench/RESULTS.md: p50 2.1 s with 3, 1.2 s with 7). Edits wait
# meanwhile; the code message itself carries the code.
URGENT_RESERVE = 7

GLOBAL_KEY = 0  # chat ids are never 0


class Pacer(Protocol):
    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        """Return when one more request to `chat_id` may go (its chat's token and the
        bot's are taken)."""

    async def acquire_message(self, chat_id: int) -> None:
        """A new message in a group also needs the group's messages-per-minute token;
        returns at once for a private chat."""

    async def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: no request to the chat for `seconds`."""

    def peek(self, chat_id: int) -> float:
        """About how long a new message to the chat would wait now, as far as this
        instance knows (nothing taken): a hint for folding messages into edits."""

    async def close(self) -> None: ...


def gcra_wait(tat: float, now: float, rate: Rate, reserve: int = 0) -> float:
    """Seconds to wait before a request may take a token (0: now)."""
    allowed_ahead = rate.tolerance - reserve * rate.interval
    return max(0.0, max(tat, now) - now - allowed_ahead)


Bucket = tuple[object, Rate, int]  # (key, rate, tokens reserved for others)


class MemoryPacer:
    """The budgets of one process."""

    def __init__(self, *, global_rate: Rate = GLOBAL, chat_rate: Rate = CHAT,
                 group_messages: Rate = GROUP_MESSAGES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.global_rate = global_rate
        self.chat_rate = chat_rate
        self.group_messages = group_messages
        self.clock = clock
        self._tat: dict[object, float] = {}
        # Until when a code waits for the bot's budget: card edits and notices stand
        # back meanwhile, so at the bot's limit codes go first (edits of one card are
        # merged while they wait, bot/chat_queue.py).
        self._codes_waiting_until = 0.0
        # Requests queue for the bot's budget in two lines, codes and the rest; asyncio's
        # Lock wakes its waiters in order, one at a time (see acquire).
        self._code_line = asyncio.Lock()
        self._other_line = asyncio.Lock()

    def take(self, buckets: list[Bucket]) -> float:
        """Take a token from every bucket now (0.0), or from none and say how long to
        wait."""
        now = self.clock()
        urgent = all(reserve == 0 for _, _, reserve in buckets)
        if not urgent and now < self._codes_waiting_until:
            return self._codes_waiting_until - now
        wait = 0.0
        for key, rate, reserve in buckets:
            this = gcra_wait(self._tat.get(key, now), now, rate, reserve)
            if urgent and key == GLOBAL_KEY and this > 0:
                self._codes_waiting_until = max(self._codes_waiting_until,
                                                now + this + rate.interval)
            wait = max(wait, this)
        if wait > 0:
            return wait
        for key, rate, _ in buckets:
            self._tat[key] = max(self._tat.get(key, now), now) + rate.interval
        if len(self._tat) > 4096:
            self._forget_idle(now)
        return 0.0

    def request_buckets(self, chat_id: int, urgent: bool) -> list[Bucket]:
        return [(chat_id, self.chat_rate, 0),
                (GLOBAL_KEY, self.global_rate, 0 if urgent else URGENT_RESERVE)]

    def _forget_idle(self, now: float) -> None:
        # A TAT in the past is a full bucket: the same as no entry.
        for key in [k for k, tat in self._tat.items() if tat <= now]:
            del self._tat[key]

    async def _wait_for(self, buckets: list[Bucket]) -> None:
        # The wait is known exactly: nothing to be woken by, so a sleep, not an Event.
        while (wait := self.take(buckets)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    def chat_wait(self, chat_id: int) -> float:
        now = self.clock()
        return gcra_wait(self._tat.get(chat_id, now), now, self.chat_rate)

    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        buckets = self.request_buckets(chat_id, urgent)
        # Requests queue for the bot's budget in line, first come first served, and only
        # the head of a line sleeps and asks again. When each waiter did that, whoever woke
        # first won (a code waited 21 s at 30 codes/s), and with thousands of card edits
        # held back by codes at the bot's whole rate, every one of them woke for every
        # token: a fifth of the bot's CPU at 5,000 chats (bench/RESULTS.md). The head asks
        # the budget itself (relative to now), so a late wake-up on a loaded loop never
        # sends a backlog at once.
        line = self._code_line if urgent else self._other_line
        while True:
            while (wait := self.chat_wait(chat_id)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)  # the chat's own pace: not in the line meanwhile
            async with line:
                while (wait := self.take(buckets)) > 0:
                    if self.chat_wait(chat_id) > 0:
                        break  # held by the chat's own budget (a 429): leave the line
                    await asyncio.sleep(wait)
                else:
                    return

    async def acquire_message(self, chat_id: int) -> None:
        if chat_id < 0:
            await self._wait_for([(("msg", chat_id), self.group_messages, 0)])

    def peek(self, chat_id: int) -> float:
        now = self.clock()
        if chat_id < 0:
            key: object = ("msg", chat_id)
            return gcra_wait(self._tat.get(key, now), now, self.group_messages)
        return gcra_wait(self._tat.get(chat_id, now), now, self.chat_rate)

    async def hold(self, chat_id: int, seconds: float) -> None:
        now = self.clock()
        # Allowed again (one request) at now + seconds, then paced as usual.
        held = now + seconds + self.chat_rate.tolerance
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
