"""Routers, one per conversation area, built anew for each dispatcher (an aiogram router
belongs to one dispatcher for good; tests and the playground make several)."""

from __future__ import annotations

from aiogram import Router

from handlers import (
    activations,
    buy,
    errors,
    fallback,
    group_rules,
    groups,
    guards,
    history,
    keys,
    ops,
    settings,
    start,
)


def get_routers() -> list[Router]:
    # guards right after errors: a press on someone else's menu goes no further. buy comes
    # after the other areas: it takes free text as a service search. fallback is last: it
    # answers button presses and messages nobody else understood. (bot.app's AreaDispatcher
    # offers each update only to the areas and handlers that could take it.)
    return [errors.make_router(), guards.make_router(), ops.make_router(),
            start.make_router(), groups.make_router(),
            keys.make_router(), settings.make_router(), history.make_router(),
            activations.make_router(), buy.make_router(), group_rules.make_router(),
            fallback.make_router()]
