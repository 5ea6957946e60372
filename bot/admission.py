"""How many updates use the CPU at once: a first-come, first-served gate.

aiogram starts every update as a task of its own, so a burst of 50 at once runs as 50
interleaved tasks: each one's time includes the CPU of all the others, and they all end
near the end of the burst. With `limit` updates admitted at a time, in arrival order, the
first ones should be answered while the later ones wait.

Measured (bench/RESULTS.md, "cost per update, part 3"): the handler histogram improves,
but what people feel (message-to-answer p50 and p99) does not, because every handler gives
its place up at its Telegram calls and the answer a person sees is such a call. So it is
off by default (UPDATE_CONCURRENCY=0).

An admitted update is never held back by the gate again, so the gate cannot deadlock with
the locks, single-flight reads or purchases updates wait on for each other: only entering
waits. While an update waits on the network (the provider, Telegram: `away()`) it does not
count, so a slow provider key never holds back another person's update; coming back from
that wait does not queue (the count may exceed `limit` for a moment).

`limit` 0 turns the gate off (every update starts at once, as aiogram does).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.types import TelegramObject

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod
    from aiogram.methods.base import TelegramType


@dataclass
class _Ticket:
    """One admitted update: its task, and whether it counts right now."""

    task: asyncio.Task[Any] | None
    counted: bool = True


_ticket: ContextVar[_Ticket | None] = ContextVar("koalabot_admission", default=None)


class Admission:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0  # admitted updates not away on the network
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _wake(self) -> None:
        while self._waiting and self.running < self.limit:
            waiter = self._waiting.popleft()
            if not waiter.done():
                self.running += 1
                waiter.set_result(None)

    def _leave(self) -> None:
        self.running -= 1
        self._wake()

    async def _enter(self) -> None:
        if self.running < self.limit and not self._waiting:
            self.running += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._leave()  # admitted just as it was cancelled: give the place on
            raise

    @asynccontextmanager
    async def admitted(self) -> AsyncIterator[None]:
        """Around one update: waits for its turn, in arrival order."""
        if self.limit <= 0:
            yield
            return
        await self._enter()
        ticket = _Ticket(asyncio.current_task())
        token = _ticket.set(ticket)
        try:
            yield
        finally:
            _ticket.reset(token)
            if ticket.counted:
                self._leave()

    @asynccontextmanager
    async def away(self) -> AsyncIterator[None]:
        """Around a network wait inside an update: the update does not count meanwhile.
        Outside an update (the poller, a task an update started) it does nothing."""
        ticket = _ticket.get()
        if ticket is None or not ticket.counted or ticket.task is not asyncio.current_task():
            yield
            return
        ticket.counted = False
        self._leave()
        try:
            yield
        finally:
            ticket.counted = True
            self.running += 1  # back at once: an admitted update never queues again


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AdmissionMiddleware(BaseMiddleware):
    """Outer update middleware: each update runs inside `Admission.admitted`."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        async with self.admission.admitted():
            return await handler(event, data)


class AwayDuringRequests(BaseRequestMiddleware):
    """Bot session middleware: a Telegram request is a network wait (`Admission.away`)."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        async with self.admission.away():
            return await make_request(bot, method)
