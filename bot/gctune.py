"""Keep the start-up heap out of the garbage collector's full passes.

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

import gc


def settle_heap() -> int:
    """Collect start-up garbage, then freeze what survived; returns how many objects."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
