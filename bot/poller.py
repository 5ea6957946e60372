"""Placeholder: the scheduler-driven poller (issue 4) replaces this."""

from __future__ import annotations

from bot.activations import ActivationManager


class Poller:
    def __init__(self, *, manager: ActivationManager, interval: float) -> None:
        self.manager = manager
        self.interval = interval

    async def start(self) -> None:
        await self.manager.deliver_pending()

    async def stop(self) -> None:
        return None
