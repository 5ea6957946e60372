"""Time travel for end-to-end tests: the bot's clock and the provider's, moved together.

The provider sandbox has its own clock (provider.advance); the bot reads wall-clock UTC
through ActivationManager.clock. Moving only one of them would make the bot and the
provider disagree about when a cancel is allowed or an activation ends.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.app import App
from bot.sandbox.provider import ProviderSandbox
from storage.models import utcnow


class TimeTravel:
    def __init__(self, app: App, provider: ProviderSandbox) -> None:
        self.app = app
        self.provider = provider
        self.offset = timedelta(0)
        app.manager.clock = self.now

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)
        self.provider.advance(seconds)


async def ticks(app: App, count: int = 3, *, timeout: float = 5.0) -> None:
    """Let the poller run `count` more rounds (and the work they started settle)."""
    target = app.poller.ticks + count
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while app.poller.ticks < target:
        if loop.time() > deadline:
            raise AssertionError(f"the poller did not tick {count} times in {timeout}s")
        await asyncio.sleep(0.02)
