"""Router of the history area (filled in by its issue)."""

from __future__ import annotations

from aiogram import Router

router = Router(name="history")
