"""Routers, one per conversation area, in the order they must see updates."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import activations, buy, history, keys, settings, start

    # buy comes last: it takes free text as a service search.
    return [start.router, keys.router, settings.router, history.router, activations.router,
            buy.router]
