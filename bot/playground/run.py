"""`python -m bot --playground`: the real bot, the emulators and the page, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.playground.bridge import Bridge
from bot.playground.server import make_app
from bot.sandbox.playground import DEMO_KEY, World, add_cast, world

HOST = "127.0.0.1"  # never another interface: the page drives a bot with no login
DEFAULT_PORT = 8080


@dataclass
class Playground:
    url: str
    world: World
    bridge: Bridge


async def _listen(runner: web.AppRunner, port: int | None) -> int:
    """Bind `port`; None: DEFAULT_PORT, or any free port when that one is taken."""
    for candidate in ([DEFAULT_PORT, 0] if port is None else [port]):
        try:
            await web.TCPSite(runner, HOST, candidate).start()
        except OSError as exc:
            if port is None and exc.errno == errno.EADDRINUSE:
                continue
            raise
        break
    return int(runner.addresses[-1][1])


@asynccontextmanager
async def playground(port: int | None = 0, *, database_url: str | None = None,
                     poll_interval: float = 0.5) -> AsyncIterator[Playground]:
    async with world(poll_interval=poll_interval, database_url=database_url) as w:
        cast = add_cast(w.tg)
        bridge = Bridge(w, cast, DEMO_KEY)
        runner = web.AppRunner(make_app(bridge), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        watcher: asyncio.Task[None] | None = None
        try:
            bound = await _listen(runner, port)
            watcher = asyncio.create_task(bridge.run())
            yield Playground(f"http://{HOST}:{bound}/", w, bridge)
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await bridge.close()
            await runner.cleanup()


async def run_playground(port: int | None, database_url: str | None) -> None:
    async with playground(port, database_url=database_url) as pg:
        print(f"Playground: open {pg.url} in a browser "
              "(a simulation: emulated Telegram and KoalaSMS, no token, no money; Ctrl+C stops)",
              flush=True)
        await asyncio.Event().wait()
