"""Router of the buy area (filled in by its issue)."""

from __future__ import annotations

from aiogram import Router

router = Router(name="buy")
