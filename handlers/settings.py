"""Router of the settings area (filled in by its issue)."""

from __future__ import annotations

from aiogram import Router

router = Router(name="settings")
