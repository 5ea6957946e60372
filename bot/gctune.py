"""Keep the start-up heap out of the garbage collector's full passes, and give memory
freed after a burst back to the system.

`import aiogram` alone leaves about a million objects the cyclic collector tracks (pydantic
builds a validator and schema for each of ~300 Bot API types), and SQLAlchemy, the texts and
the handlers add more. None of them ever becomes garbage, but every full (generation 2)
collection walks them all: measured with `bench/update_cost.py` as pauses of 0.5-0.8 s in
the middle of a burst of updates (every pending update waits for it).

`gc.freeze()` (Python 3.7+) moves everything alive at that moment into a permanent
generation the collector never scans; objects made afterwards are collected as before.
Called once, after start-up, when the long-lived objects exist and nothing is running yet.

The youngest generation is then collected every `YOUNG_THRESHOLD` net allocations instead
of every 700: an update allocates thousands of short-lived objects (pydantic models of
Telegram's answers, SQLAlchemy rows, aiohttp requests), so at 700 the collector ran several
times per update and promoted objects that a moment later were garbage anyway into the
older generations, whose passes cost more. Measured with `bench/update_cost.py` (450
updates, CPU time, two series at load 9-10): 7.24 and 6.57 ms per update at 700, 6.14 and
5.56 at 20,000 (−15 %; 50,000 gave no more). The price is at most ~20,000 dead objects
waiting for the next pass (a few MiB).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 20_000  # Python's default is 700


def settle_heap() -> int:
    """Collect start-up garbage, then freeze what survived; returns how many objects. The
    young generation's threshold goes to YOUNG_THRESHOLD (the older ones keep theirs)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    return gc.get_freeze_count()


# --- giving freed memory back ------------------------------------------------------------
#
# Bursts (a poll tick over a thousand accounts, ten thousand people sending /start) raise
# the heap, and the memory freed afterwards stays with the process: glibc keeps free chunks
# inside its arenas (one per aiosqlite connection thread as well as the main one) until
# malloc_trim() hands whole free pages back. Measured with bench/heap.py: 10,000 users and
# 1,000 running numbers, RSS 278 -> 264 MiB after one malloc_trim(0); 1,000 keys idle,
# 256 -> 249 MiB. Not glibc (musl, macOS): nothing to call, nothing done.
TRIM_EVERY = 10.0  # seconds; one call costs milliseconds


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


async def trim_heap_forever(every: float = TRIM_EVERY) -> None:
    """Hand the heap's free pages back to the system every `every` seconds (a task that
    runs until cancelled; returns at once where there is no malloc_trim)."""
    trim = _malloc_trim()
    if trim is None:
        return
    while True:
        await asyncio.sleep(every)
        started = time.perf_counter()
        trim(0)
        log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1000)
