"""The pacer's budgets in Redis, shared by every instance of the bot (REDIS_URL).

The same GCRA buckets as MemoryPacer (bot/pacing.py), one Redis string per chat plus one
for the bot, changed by a Lua script so that checking both budgets and taking from both
is one atomic step, and timed by Redis's own clock (TIME), so instances whose clocks
differ still agree. Keys expire once their bucket is full again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from bot.pacing import GLOBAL, GLOBAL_KEY, URGENT_RESERVE, MemoryPacer, Rate, chat_rate

# KEYS: chat, global. ARGV: chat interval, chat allowed-ahead, global interval, global
# allowed-ahead. Returns "0" (taken) or the seconds to wait, as a string (a Lua number
# would come back truncated to an integer).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ci, cahead = tonumber(ARGV[1]), tonumber(ARGV[2])
local gi, gahead = tonumber(ARGV[3]), tonumber(ARGV[4])
local ctat = tonumber(redis.call('GET', KEYS[1]) or now)
local gtat = tonumber(redis.call('GET', KEYS[2]) or now)
if ctat < now then ctat = now end
if gtat < now then gtat = now end
local wait = math.max(ctat - now - cahead, gtat - now - gahead, 0)
if wait > 0 then return tostring(wait) end
ctat = ctat + ci
gtat = gtat + gi
redis.call('SET', KEYS[1], tostring(ctat), 'PX', math.ceil((ctat - now) * 1000) + 1000)
redis.call('SET', KEYS[2], tostring(gtat), 'PX', math.ceil((gtat - now) * 1000) + 1000)
return '0'
"""

# KEYS: chat. ARGV: seconds, chat tolerance. A 429: the chat's TAT moves to its end.
_HOLD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local held = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if held > tat then
  redis.call('SET', KEYS[1], tostring(held), 'PX', math.ceil((held - now) * 1000) + 1000)
end
return 1
"""


class RedisPacer:
    def __init__(self, redis: Redis, *, namespace: str = "koalabot:pace",
                 global_rate: Rate = GLOBAL) -> None:
        self.redis = redis
        self.namespace = namespace
        self.global_rate = global_rate
        self._take: Any = redis.register_script(_TAKE)
        self._hold: Any = redis.register_script(_HOLD)
        self._local = MemoryPacer()  # what this instance took: peek() reads it

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisPacer:
        return cls(Redis.from_url(url), **options)

    def _key(self, chat_id: int) -> str:
        return f"{self.namespace}:{chat_id}"

    async def try_take(self, chat_id: int, *, urgent: bool) -> float:
        rate = chat_rate(chat_id)
        g = self.global_rate
        ahead = g.tolerance - (0 if urgent else URGENT_RESERVE) * g.interval
        answer = await self._take(
            keys=[self._key(chat_id), self._key(GLOBAL_KEY)],
            args=[repr(rate.interval), repr(rate.tolerance), repr(g.interval), repr(ahead)])
        wait = float(answer.decode() if isinstance(answer, bytes) else answer)
        if wait <= 0:
            self._local.note_take(chat_id)
        return wait

    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        # The wait is known exactly (Redis said it): a sleep, not an Event.
        while (wait := await self.try_take(chat_id, urgent=urgent)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    async def hold(self, chat_id: int, seconds: float) -> None:
        await self._local.hold(chat_id, seconds)
        await self._hold(keys=[self._key(chat_id)],
                         args=[repr(float(seconds)), repr(chat_rate(chat_id).tolerance)])

    def peek(self, chat_id: int) -> float:
        return self._local.peek(chat_id)

    async def close(self) -> None:
        await self.redis.aclose()
