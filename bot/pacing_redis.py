"""The pacer's budgets in Redis, shared by every instance of the bot (REDIS_URL).

The same GCRA buckets as MemoryPacer (bot/pacing.py), one Redis string each, changed by
a Lua script so that checking every budget of a request and taking from all of them is
one atomic step, timed by Redis's own clock (TIME), so instances whose clocks differ
still agree. Keys expire once their bucket is full again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from bot.pacing import CHAT, GLOBAL, GLOBAL_KEY, GROUP_MESSAGES, Bucket, MemoryPacer, Rate

# KEYS: the buckets. ARGV: interval and allowed-ahead of each, in KEYS order. Returns "0"
# (taken from all) or "seconds to wait:the bucket (1-based) that makes it wait" (nothing
# taken), as a string (a Lua number would come back truncated to an integer).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tats = {}
local wait = 0
local which = 0
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  local w = tat - now - tonumber(ARGV[2 * i])
  if w > wait then
    wait = w
    which = i
  end
end
if wait > 0 then return tostring(wait) .. ':' .. which end
for i, key in ipairs(KEYS) do
  local tat = tats[i] + tonumber(ARGV[2 * i - 1])
  redis.call('SET', key, tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
end
return '0'
"""

# KEYS: the chat's bucket. ARGV: seconds, the bucket's tolerance. A 429: the chat's TAT
# moves to the end of the wait.
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
                 global_rate: Rate = GLOBAL, chat_rate: Rate = CHAT,
                 group_messages: Rate = GROUP_MESSAGES) -> None:
        self.redis = redis
        self.namespace = namespace
        self._take: Any = redis.register_script(_TAKE)
        self._hold: Any = redis.register_script(_HOLD)
        # What this instance took, mirrored locally: peek() reads it without a round trip.
        self._local = MemoryPacer(global_rate=global_rate, chat_rate=chat_rate,
                                  group_messages=group_messages)
        # This instance's requests wait for the bot's budget in two lines, as in
        # MemoryPacer.acquire: only the head asks Redis again. When every waiter slept and
        # asked, each token cost a script call per waiter (thousands of card edits held
        # back by codes: thousands of calls a second).
        self._code_line = asyncio.Lock()
        self._other_line = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisPacer:
        return cls(Redis.from_url(url), **options)

    def _key(self, key: object) -> str:
        if isinstance(key, tuple):
            return f"{self.namespace}:" + ":".join(str(part) for part in key)
        return f"{self.namespace}:{key}"

    async def take(self, buckets: list[Bucket]) -> float:
        return (await self._take_which(buckets))[0]

    async def _take_which(self, buckets: list[Bucket]) -> tuple[float, object]:
        """take(), and the key of the bucket that makes it wait (None: taken)."""
        args: list[str] = []
        for _, rate, reserve in buckets:
            args += [repr(rate.interval), repr(rate.tolerance - reserve * rate.interval)]
        answer = await self._take(keys=[self._key(key) for key, _, _ in buckets], args=args)
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        wait, _, which = text.partition(":")
        if float(wait) <= 0:
            self._local.take(buckets)  # mirrored; a local wait here means nothing
            return 0.0, None
        return float(wait), buckets[int(which) - 1][0]

    async def _wait_for(self, buckets: list[Bucket]) -> None:
        # The wait is known exactly (Redis said it): a sleep, not an Event.
        while (wait := await self.take(buckets)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    async def acquire(self, chat_id: int, *, urgent: bool) -> None:
        buckets = self._local.request_buckets(chat_id, urgent)
        line = self._code_line if urgent else self._other_line
        while True:
            async with line:
                while (found := await self._take_which(buckets))[0] > 0:
                    if found[1] != GLOBAL_KEY:
                        break  # the chat's own budget (its pace, a 429): wait out of line
                    await asyncio.sleep(found[0])
                else:
                    return
            await asyncio.sleep(found[0])

    async def acquire_message(self, chat_id: int) -> None:
        if chat_id < 0:
            await self._wait_for([(("msg", chat_id), self._local.group_messages, 0)])

    def peek(self, chat_id: int) -> float:
        return self._local.peek(chat_id)

    async def hold(self, chat_id: int, seconds: float) -> None:
        await self._local.hold(chat_id, seconds)
        await self._hold(keys=[self._key(chat_id)],
                         args=[repr(float(seconds)), repr(self._local.chat_rate.tolerance)])

    async def close(self) -> None:
        await self.redis.aclose()
