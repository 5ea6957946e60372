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
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def settle_heap() -> int:
    """Collect start-up garbage, then freeze what survived; returns how many objects."""
    gc.collect()
    gc.freeze()
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
