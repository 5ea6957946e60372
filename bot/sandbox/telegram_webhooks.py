"""Webhook delivery for the Telegram emulator: updates POSTed the way Telegram does it,
spread over several bot instances in turn (a load balancer in front of them).

Additive: the emulator queues updates as before (getUpdates still serves them when no
pusher runs). A `WebhookPusher` takes each queued update and posts it to the next URL in
turn, with the secret token header; a URL that refuses the connection or does not answer
2xx passes the update on to the next one, and an update is tried until one instance
takes it, as Telegram retries. `sent` says which URL took which update.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from bot.sandbox.telegram import TelegramEmulator, _Update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPusher:
    def __init__(self, emu: TelegramEmulator, urls: list[str], *,
                 secret: str | None = None, parallel: int = 40) -> None:
        if not urls:
            raise ValueError("at least one webhook URL")
        self.emu = emu
        self.urls = list(urls)
        self.secret = secret
        self.sent: list[tuple[int, str]] = []  # (update id, URL that took it)
        self.by_callback: dict[str, str] = {}  # callback query id -> URL that took it
        self._turn = itertools.count()
        self._slots = asyncio.Semaphore(parallel)  # Telegram's max_connections
        self._taken: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._loop = asyncio.create_task(self._run(), name="webhook pusher")

    async def stop(self) -> None:
        for task in [self._loop, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [self._loop, *self._tasks] if t is not None),
                             return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def taken_by(self, update_id: int) -> str | None:
        return next((url for uid, url in self.sent if uid == update_id), None)

    async def _run(self) -> None:
        emu = self.emu
        while True:
            for update in list(emu._updates):
                if update.id not in self._taken and not update.delivered:
                    self._taken.add(update.id)
                    task = asyncio.create_task(self._deliver(update))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            await emu._changed.wait(1.0)

    async def _deliver(self, update: _Update) -> None:
        assert self._http is not None
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        async with self._slots:
            for attempt in itertools.count(1):
                url = self.urls[next(self._turn) % len(self.urls)]
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with self._http.post(url, json=update.to_api(),
                                               headers=headers) as response:
                        if 200 <= response.status < 300:
                            update.delivered = True
                            with contextlib.suppress(ValueError):
                                self.emu._updates.remove(update)
                            self.sent.append((update.id, url))
                            if update.kind == "callback_query":
                                self.by_callback[str(update.payload["id"])] = url
                            return
                if attempt % len(self.urls) == 0:
                    await asyncio.sleep(0.2)  # every instance refused: wait a little
