"""The pacer keeps Telegram's limits: per chat, per group's messages, for the whole bot, and
(with Redis) across instances. Budgets are read on a fake clock here; the Redis test uses
the real Redis of the machine and counts grants per window, it never times anything."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import pytest

from bot.pacing import (
    CHAT,
    GLOBAL,
    GROUP_MESSAGES,
    URGENT_RESERVE,
    Bucket,
    MemoryPacer,
    Rate,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def granted(pacer: MemoryPacer, clock: FakeClock, buckets: list[Bucket], n: int) -> list[float]:
    """Take n tokens as fast as the pacer allows; the times they were granted."""
    times = []
    for _ in range(n):
        while (wait := pacer.take(buckets)) > 0:
            clock.now += wait
        times.append(clock.now)
    return times


def most_in_window(times: list[float], window: float) -> int:
    """The most grants any window of `window` seconds (closed) holds."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t - start <= window + 1e-9))
    return best


def test_a_private_chat_gets_a_small_burst_then_one_message_a_second() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    times = granted(pacer, clock, pacer.request_buckets(42, urgent=True), 30)
    assert times[:CHAT.burst] == [times[0]] * CHAT.burst  # the burst goes at once
    assert most_in_window(times, 1.0) <= CHAT.most_in(1.0) == 4
    assert most_in_window(times, 10.0) <= CHAT.most_in(10.0)


def test_a_group_gets_no_more_than_twenty_messages_in_any_minute() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    times = granted(pacer, clock, [(("msg", -100), GROUP_MESSAGES, 0)], 60)
    assert most_in_window(times, 60.0) <= 20
    assert GROUP_MESSAGES.most_in(60.0) == 20


def test_the_whole_bot_stays_near_thirty_a_second_over_many_chats() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    times = []
    for chat_id in range(1, 301):  # one message each: only the global budget binds
        times += granted(pacer, clock, pacer.request_buckets(chat_id, urgent=True), 1)
    assert most_in_window(times, 1.0) <= GLOBAL.most_in(1.0)


def test_card_edits_leave_the_last_tokens_to_codes() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    # Card edits to many chats drain the bot's budget down to its reserve...
    edits = 0
    for chat_id in range(1, 100):
        if pacer.take(pacer.request_buckets(chat_id, urgent=False)) > 0:
            break
        edits += 1
    assert edits == GLOBAL.burst - URGENT_RESERVE
    # ...and a bunch of codes to other chats still go at once.
    for chat_id in range(500, 500 + URGENT_RESERVE):
        assert pacer.take(pacer.request_buckets(chat_id, urgent=True)) == 0


def test_codes_at_the_bots_whole_rate_keep_up_while_card_edits_want_every_token() -> None:
    # 30 codes a second for 30 s, each found up to one poll interval (2 s) after its SMS:
    # exactly the budget on average, in uneven bunches. Card edits take every token they
    # may whenever no code waits. With a reserve of 3 they ate the lulls that codes need
    # to catch up after a bunch (median wait 0.13 s, p99 0.36 s in this run; at the
    # bench's 30 codes/s a backlog of a second built up and never drained).
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    rnd = random.Random(1)
    found = sorted(i / 30 + rnd.uniform(0, 2) for i in range(900))
    waiting: list[float] = []
    waits: list[float] = []
    chat_id = 1
    step = 0
    while found or waiting:
        clock.now = step * 0.005
        while found and found[0] <= clock.now:
            waiting.append(found.pop(0))
        while waiting and pacer.take(pacer.request_buckets(chat_id, urgent=True)) == 0:
            waits.append(clock.now - waiting.pop(0))
            chat_id += 1
        while not waiting and pacer.take(pacer.request_buckets(chat_id, urgent=False)) == 0:
            chat_id += 1  # a card edit
        step += 1
    waits.sort()
    assert waits[len(waits) // 2] <= 0.05
    assert waits[int(len(waits) * 0.99)] <= 0.3


def test_a_flood_wait_holds_the_chat_then_it_is_paced_again() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    asyncio.run(pacer.hold(7, 5.0))
    wait = pacer.take(pacer.request_buckets(7, urgent=True))
    assert wait == pytest.approx(5.0)
    clock.now += wait
    assert pacer.take(pacer.request_buckets(7, urgent=True)) == 0
    assert pacer.take(pacer.request_buckets(7, urgent=True)) > 0  # then one a second
    assert pacer.take(pacer.request_buckets(8, urgent=True)) == 0  # other chats: free


def test_peek_says_a_group_that_used_its_burst_would_make_a_message_wait() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    assert pacer.peek(-100) == 0
    granted(pacer, clock, [(("msg", -100), GROUP_MESSAGES, 0)], GROUP_MESSAGES.burst + 1)
    assert pacer.peek(-100) > 2.0


# --------------------------------------------------------------------------- Redis


@pytest.fixture
async def redis_url() -> str:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # any failure means: no Redis here
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    finally:
        await client.aclose()
    return REDIS_URL


async def test_two_instances_sharing_redis_pace_a_chat_together(redis_url: str) -> None:
    from bot.pacing_redis import RedisPacer

    # Faster budgets than Telegram's so the test is short; the same script and keys.
    chat_rate = Rate(per_second=20.0, burst=2)
    namespace = f"test:pace:{uuid.uuid4().hex}"
    first = RedisPacer.from_url(redis_url, namespace=namespace, chat_rate=chat_rate)
    second = RedisPacer.from_url(redis_url, namespace=namespace, chat_rate=chat_rate)
    grants: list[float] = []

    async def send(pacer: RedisPacer, n: int) -> None:
        for _ in range(n):
            await pacer.acquire(42, urgent=True)
            grants.append(time.monotonic())

    try:
        await asyncio.gather(send(first, 20), send(second, 20))
        # Another chat is not held up by the first one's pace.
        assert await first.take(first._local.request_buckets(43, urgent=True)) == 0
    finally:
        await first.close()
        await second.close()
    grants.sort()
    # Alone, each instance would allow 22 in the first second: together they share one
    # budget (one grant of slack for the time between Redis's answer and our clock).
    assert most_in_window(grants, 1.0) <= chat_rate.most_in(1.0) + 1
    assert len(grants) == 40


async def test_a_flood_wait_seen_by_one_instance_holds_the_other(redis_url: str) -> None:
    from bot.pacing_redis import RedisPacer

    namespace = f"test:pace:{uuid.uuid4().hex}"
    first = RedisPacer.from_url(redis_url, namespace=namespace)
    second = RedisPacer.from_url(redis_url, namespace=namespace)
    try:
        await first.hold(42, 30.0)
        wait = await second.take(second._local.request_buckets(42, urgent=True))
        assert 25.0 < wait <= 30.0
        assert await second.take(second._local.request_buckets(43, urgent=True)) == 0
    finally:
        await first.close()
        await second.close()


async def test_with_redis_requests_held_back_ask_redis_only_at_the_head_of_the_line(
        redis_url: str) -> None:
    """As test_requests_held_back_wait_in_line_..., with the budgets in Redis: 100 card
    edits held back by the bot's budget cost about two script calls each, not one per
    waiter per token; a chat held by its own pace waits out of the line."""
    from bot.pacing_redis import RedisPacer

    namespace = f"test:pace:{uuid.uuid4().hex}"
    pacer = RedisPacer.from_url(redis_url, namespace=namespace,
                                global_rate=Rate(per_second=200.0, burst=GLOBAL.burst),
                                chat_rate=Rate(per_second=1000.0, burst=10))
    asked = 0
    take_which = pacer._take_which

    async def counting(buckets: list[Bucket]) -> tuple[float, object]:
        nonlocal asked
        asked += 1
        return await take_which(buckets)

    pacer._take_which = counting  # type: ignore[method-assign]
    order: list[int] = []

    async def edit(chat_id: int) -> None:
        await pacer.acquire(chat_id, urgent=False)
        order.append(chat_id)

    try:
        await pacer.hold(1, 0.3)  # chat 1 is held (a 429): the others go meanwhile
        waiters = 100
        await asyncio.gather(*(edit(chat_id) for chat_id in range(1, waiters + 1)))
    finally:
        await pacer.close()
    assert sorted(order) == list(range(1, waiters + 1))
    assert order[-1] == 1  # held by its own chat's budget, out of the line
    assert order[:-1] == list(range(2, waiters + 1))
    assert asked < 4 * waiters


def test_at_the_bots_limit_card_edits_wait_while_a_code_does() -> None:
    clock = FakeClock()
    pacer = MemoryPacer(clock=clock)
    for chat_id in range(1, GLOBAL.burst + 1):  # codes use the whole burst
        assert pacer.take(pacer.request_buckets(chat_id, urgent=True)) == 0
    code_wait = pacer.take(pacer.request_buckets(100, urgent=True))
    assert code_wait > 0
    # The token that frees first goes to the code, not to a card edit asking then.
    clock.now += code_wait
    assert pacer.take(pacer.request_buckets(200, urgent=False)) > 0
    assert pacer.take(pacer.request_buckets(100, urgent=True)) == 0


async def test_codes_take_the_bots_budget_in_the_order_they_asked() -> None:
    # One token a while for the whole bot; chats' own budgets never bind here.
    pacer = MemoryPacer(global_rate=Rate(per_second=50.0, burst=1),
                        chat_rate=Rate(per_second=1000.0, burst=10))
    order: list[int] = []

    async def code(chat_id: int) -> None:
        await pacer.acquire(chat_id, urgent=True)
        order.append(chat_id)

    await code(1)  # the only token
    second = asyncio.create_task(code(2))
    await asyncio.sleep(0)  # the second code waits for the next token...
    time.sleep(0.05)  # noqa: ASYNC251 -- ...on a busy loop, past the moment it is free
    third = asyncio.create_task(code(3))  # and a third asks just then
    await asyncio.gather(second, third)
    # The code that waited goes first: a newcomer does not take its token.
    assert order == [1, 2, 3]


async def test_requests_held_back_wait_in_line_without_waking_for_every_token() -> None:
    """Hundreds of card edits waiting for the bot's budget: only the head of the line asks
    the budget again, so the work per token does not grow with the waiters, and they go
    in the order they asked."""
    pacer = MemoryPacer(global_rate=Rate(per_second=400.0, burst=GLOBAL.burst),
                        chat_rate=Rate(per_second=1000.0, burst=10))
    asked = 0
    take = pacer.take

    def counting_take(buckets: list[Bucket]) -> float:
        nonlocal asked
        asked += 1
        return take(buckets)

    pacer.take = counting_take  # type: ignore[method-assign]
    order: list[int] = []

    async def edit(chat_id: int) -> None:
        await pacer.acquire(chat_id, urgent=False)
        order.append(chat_id)

    waiters = 200
    await asyncio.gather(*(edit(chat_id) for chat_id in range(1, waiters + 1)))
    assert order == list(range(1, waiters + 1))
    # Each waiter asks about twice (once when it comes to the head, once when its token
    # is due; a late wake-up may add one); each asking for every token would be ~20,000.
    assert asked < 4 * waiters
