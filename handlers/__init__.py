"""Routers, one per conversation area, in the order they must see updates."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import activations, start

    return [start.router, activations.router]
