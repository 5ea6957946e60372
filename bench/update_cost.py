"""What one update costs, counted rather than timed (the machine is shared).

Runs bot and both emulators in this process (50 users set a key, then /start, /balance and
/buy at once, `--rounds` times each) and counts:
- CPU seconds of the process (`time.process_time`, bot and both emulators together),
- parametrised pydantic models built (`Response[...]` rebuilt by aiogram's `check_response`
  when pydantic's weak-valued generic cache has lost it to the GC),
- SQL statements executed,
- garbage collections per generation and the longest pause of each.

    python -m bench.update_cost [--users 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections import Counter
from typing import Any

from pydantic._internal import _generics
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.sandbox.playground import DEMO_KEY, world

builds: Counter[str] = Counter()
_original_set = _generics.set_cached_generic_type


def _counting_set(parent: Any, typevar_values: Any, type_: Any, *args: Any, **kw: Any) -> None:
    builds[type_.__name__] += 1  # called once per newly built parametrised class
    _original_set(parent, typevar_values, type_, *args, **kw)


_generics.set_cached_generic_type = _counting_set

queries = 0


@event.listens_for(Engine, "before_cursor_execute")
def _count_query(*_: Any) -> None:
    global queries
    queries += 1


gc_count: Counter[int] = Counter()
gc_max: dict[int, float] = {}
gc_total: Counter[int] = Counter()
_gc_started = 0.0


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    pause = time.perf_counter() - _gc_started
    gen = info["generation"]
    gc_count[gen] += 1
    gc_total[gen] += pause  # type: ignore[assignment]
    gc_max[gen] = max(gc_max.get(gen, 0.0), pause)


async def scenario(users: int, rounds: int) -> None:
    async with world(poll_interval=2.0) as w:
        chats = [w.tg.private_chat(w.tg.add_user(first_name=f"U{i}")) for i in range(users)]
        for chat in chats:
            await chat.send(f"/key {DEMO_KEY}")
        await asyncio.gather(*(c.wait_for("100.00", timeout=60) for c in chats))
        for command, expect in (("/start", "KoalaSMS"), ("/balance", "100.00"), ("/buy", "")):
            for _ in range(rounds):
                for chat in chats:
                    await chat.send(command)
                await asyncio.gather(*(c.wait_for(expect, timeout=60) for c in chats))


async def measure(users: int, rounds: int, freeze: bool) -> None:
    if freeze:  # what `bot.app.run` does after build_app (the imports are the bulk of it)
        import bot.app  # noqa: F401
        from bot.gctune import settle_heap

        print(f"frozen: {settle_heap()} objects")
    gc.callbacks.append(_gc_callback)
    builds.clear()  # the TelegramMethod[...] classes built at import time are not the point
    cpu = time.process_time()
    await scenario(users, rounds)
    cpu = time.process_time() - cpu
    updates = 3 * users * rounds  # three commands, each round every user sends one
    print(f"updates={updates} CPU={cpu:.2f} s ({cpu / updates * 1000:.2f} ms per update, "
          "bot and emulators together, key setup included)")
    responses = {k: v for k, v in builds.items() if k.startswith("Response[")}
    print(f"Response[...] models built: {sum(responses.values())} {responses}")
    print(f"SQL statements: {queries} ({queries / updates:.1f} per update, key setup included)")
    for gen in sorted(gc_count):
        print(f"gc gen{gen}: {gc_count[gen]} collections, max {gc_max[gen] * 1000:.1f} ms, "
              f"total {gc_total[gen] * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the start-up heap to the collector (the old behaviour)")
    args = parser.parse_args()
    asyncio.run(measure(args.users, args.rounds, not args.no_freeze))


if __name__ == "__main__":
    main()
