"""Routers, one per conversation area, in the order they must see updates."""

from __future__ import annotations

import importlib
from types import ModuleType

from aiogram import Router

# buy comes after the others: it takes free text as a service search; fallback is last:
# it answers button presses nobody else understood.
AREAS = ("errors", "start", "keys", "settings", "history", "activations", "buy", "fallback")


def _router_of(name: str) -> Router:
    module: ModuleType = importlib.import_module(f"handlers.{name}")
    make_router = getattr(module, "make_router", None)
    if make_router is not None:  # an area that builds its router afresh each time
        built = make_router()
        assert isinstance(built, Router)
        return built
    router = module.router
    assert isinstance(router, Router)
    if router.parent_router is not None:
        # An aiogram router belongs to one dispatcher for good. A second dispatcher in the
        # same process (tests, the playground) gets routers made anew by re-running the
        # area's module, which has no state besides its router.
        router = importlib.reload(module).router
        assert isinstance(router, Router)
    return router


def get_routers() -> list[Router]:
    from handlers import guards

    errors, *areas = [_router_of(name) for name in AREAS]
    return [errors, guards.make_router(), *areas]
