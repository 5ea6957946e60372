"""Run the routers' magic filters and FSM states on the event loop, not in a thread.

aiogram 3 calls every filter that is not a coroutine function through `asyncio.to_thread`
(`CallableObject.call`, aiogram/dispatcher/event/handler.py; so since aiogram pull request
#1661, before that with `run_in_executor`), so that a blocking filter cannot stall the loop.
`F.text == ...`, `F.chat.type == "private"` and a `State` given as a filter are sync
callables, so each one checked costs a hand-off to the default thread pool and back (a
self-pipe write, an epoll wake-up, the GIL changing hands): an update for the buy router
passes through dozens of them. Profiled with py-spy under `bench.latency` that was a large
share of the bot's CPU per update.

Both kinds are pure and cheap (attribute reads and comparisons on the event), so here they
are given a coroutine wrapper and run inline. Any other sync filter is left to aiogram's
thread, since it might block. A router-wide filter (`router.message.filter(...)`) is not
reachable without aiogram's private attributes: wrap it in `Pure` where it is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import Filter
from aiogram.fsm.state import State
from aiogram.types import TelegramObject
from magic_filter.magic import MagicFilter


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def _is_pure(callback: Callable[..., Any]) -> bool:
    owner = getattr(callback, "__self__", None)  # MagicFilter.resolve is a bound method
    return isinstance(owner, MagicFilter) or isinstance(callback, State)


def _inline(target: CallableObject) -> bool:
    if target.awaitable or not _is_pure(target.callback):
        return False
    sync = target.callback

    async def inline(*args: Any, **kwargs: Any) -> Any:
        return sync(*args, **kwargs)

    # `params` were read from the sync callable's signature when aiogram built the object,
    # so the arguments handed over stay the same.
    inline.__wrapped__ = sync  # type: ignore[attr-defined]  # what the filter is, for routing
    target.callback = inline
    target.awaitable = True
    return True


def inline_pure_filters(root: Router) -> int:
    """Make the pure sync filters of `root` and every router under it run inline; returns
    how many were changed. Call it once the routers are included."""
    changed = 0
    for router in _routers(root):
        for observer in router.observers.values():
            for handler in observer.handlers:
                for f in handler.filters or ():
                    changed += _inline(f)
    return changed


class Pure(Filter):
    """A magic filter as an async aiogram filter, for router-wide `.filter(...)` calls."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)
