"""Button presses skip the routers that have no handler for their callback data.

aiogram offers a press to each router in turn, and each router checks every handler's
filters until one matches (`TelegramEventObserver.trigger`); each check is a coroutine
call with the whole workflow data spread as keyword arguments. A press for the buy menus
went through the filters of every area registered before it (settings alone has 18
handlers): about a third of the bot's CPU per update was aiogram routing and filters
under `bench.latency --rate` (py-spy).

A router whose button handlers (its own and those of the routers under it) all filter
on a `CallbackData` class gets one router-wide filter: the data's prefix is one of
theirs. A press with another prefix could not pass any of those handlers, so the result
is the same, with one check instead of all of them. A router with a handler that takes
other presses (guards, the fallback) is left as it is.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery


class PrefixGate(Filter):
    """True for a press whose callback data starts with one of `prefixes`."""

    def __init__(self, prefixes: set[str]) -> None:
        self.prefixes = frozenset(prefixes)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        return data is not None and data.split(":", 1)[0] in self.prefixes

    def __str__(self) -> str:
        return f"PrefixGate({sorted(self.prefixes)})"


def _prefixes(router: Router) -> set[str] | None:
    """The callback data prefixes `router` and its sub-routers handle; None when one of
    their handlers may take a press without a CallbackData filter."""
    found: set[str] = set()
    for handler in router.callback_query.handlers:
        own = {f.callback.callback_data.__prefix__ for f in handler.filters or ()
               if isinstance(f.callback, CallbackQueryFilter)
               and f.callback.callback_data.__separator__ == ":"}
        if not own:
            return None
        found |= own
    for child in router.sub_routers:
        below = _prefixes(child)
        if below is None:
            return None
        found |= below
    return found


def gate_presses(router: Router) -> dict[str, Any]:
    """Give `router` and every router under it its gate where one applies (call once
    the routers are built and included); returns {router name: prefixes} for those."""
    gated: dict[str, Any] = {}
    prefixes = _prefixes(router)
    if prefixes is not None:
        router.callback_query.filter(PrefixGate(prefixes))
        gated[router.name] = sorted(prefixes)
    for child in router.sub_routers:
        gated.update(gate_presses(child))
    return gated
