"""The event loop the bot runs on: uvloop where it is installed, asyncio's own otherwise.

The bot is one asyncio process, so at scale its limit is one core: every poll request,
Telegram call and update passes through the loop's callbacks and sockets, and uvloop
does that work in C (bench/RESULTS.md has the before and after). `EVENT_LOOP=asyncio`
keeps the standard loop (debugging, or a platform without uvloop wheels).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: str) -> LoopFactory | None:
    """A factory for `asyncio.Runner`; None means asyncio's default loop."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # not built for this platform (Windows): still runs, slower
        log.warning("EVENT_LOOP=uvloop but uvloop is not installed; using asyncio's loop")
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], choice: str) -> T:
    """asyncio.run on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)


def running_loop_name() -> str:
    """For the start-up log: which loop this is."""
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
