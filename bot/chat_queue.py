"""One sender per chat: a chat's messages go out one after another, paced, codes first.

Background work (the poller, the money core) posts a job for a chat and goes on, so no
work slot and no activation lock is held while a chat waits for its pace (bot/pacing.py)
or sleeps out a 429; a chat that is slow or flooded delays only itself. A chat's sender
is a task that lives while the chat has jobs, takes the most urgent job first (a code
before card edits and notices; in order of posting within a priority) and runs it; a code
posted while the sender waits for a card edit's turn is taken first (see _acquire). A job
posted with a key replaces the one with the same key still waiting (a card edit: the
newest state is what counts), keeping its place.

A job makes its requests through Notifier (bot/notifier.py), which sees from CURRENT
that it runs inside its chat's sender: the token the sender took before starting the job
pays for its first request.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import TelegramAPIError

from bot.flood import PACED
from bot.pacing import Pacer

log = logging.getLogger(__name__)

CODE = 0  # a code (or a card carrying one): what the user waits for
CARD = 1  # card edits, new cards, notices, the full-SMS file


@dataclass
class Sending:
    """The job a chat's sender is running (see CURRENT)."""

    chat_id: int
    urgent: bool
    prepaid: bool = True  # the sender took a token for the job's first request


class ChatUnavailable(Exception):
    """The chat blocked the bot, was deleted, or the bot was removed from it."""


CURRENT: ContextVar[Sending | None] = ContextVar("chat_sending", default=None)
# Set by the poller for its tick and everything the tick starts: card edits and notices
# are then queued, not waited for (a work slot is never held while a chat is paced).
BACKGROUND: ContextVar[bool] = ContextVar("background_sends", default=False)


@dataclass
class Job:
    priority: int
    seq: int
    run: Callable[[], Awaitable[Any]]
    key: Hashable | None = None
    waiters: list[asyncio.Future[Any]] = field(default_factory=list)

    def order(self) -> tuple[int, int]:
        return self.priority, self.seq


class ChatQueues:
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._queues: dict[int, list[Job]] = {}
        self._keyed: dict[tuple[int, Hashable], Job] = {}
        self._senders: dict[int, asyncio.Task[None]] = {}
        # Chats whose sender waits for a card edit's or a notice's token (see _acquire).
        self._code_posted: dict[int, asyncio.Event] = {}
        self._seq = itertools.count()
        self._closed = False

    def pending(self, chat_id: int) -> int:
        """Jobs waiting for the chat (the one being run not counted)."""
        return len(self._queues.get(chat_id, ()))

    def post(self, chat_id: int, run: Callable[[], Awaitable[Any]], *, priority: int,
             key: Hashable | None = None) -> Job:
        """Queue a job for the chat and return at once."""
        if priority == CODE and chat_id in self._code_posted:
            self._code_posted[chat_id].set()  # its sender waits for a card edit's token
        if key is not None:
            waiting = self._keyed.get((chat_id, key))
            if waiting is not None:
                waiting.run = run
                waiting.priority = min(waiting.priority, priority)
                return waiting
        job = Job(priority, next(self._seq), run, key)
        self._queues.setdefault(chat_id, []).append(job)
        if key is not None:
            self._keyed[(chat_id, key)] = job
        if chat_id not in self._senders and not self._closed:
            self._senders[chat_id] = asyncio.create_task(self._send_all(chat_id),
                                                         name=f"chat sender {chat_id}")
        return job

    async def call(self, chat_id: int, run: Callable[[], Awaitable[Any]], *, priority: int,
                   key: Hashable | None = None) -> Any:
        """Queue a job and wait for its result (or its exception)."""
        if self._closed:
            raise RuntimeError("the chat queues are closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.post(chat_id, run, priority=priority, key=key).waiters.append(future)
        return await future

    async def _send_all(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        PACED.set(True)  # this task's requests: a 429 is handled by Notifier, not retried
        try:
            while queue:
                urgent = min(queue, key=Job.order).priority == CODE
                try:
                    if not await self._acquire(chat_id, urgent=urgent):
                        continue  # a code came while waiting: ask again, as a code
                except Exception:  # a pacer out of reach must not stop the messages
                    log.exception("pacer failed for chat %s; sending unpaced", chat_id)
                job = min(queue, key=Job.order)  # a code may have come while waiting
                queue.remove(job)
                if job.key is not None:
                    self._keyed.pop((chat_id, job.key), None)
                await self._run(chat_id, job)
        finally:
            for job in queue:
                for waiter in job.waiters:
                    if not waiter.done():
                        waiter.cancel()
                if job.key is not None:
                    self._keyed.pop((chat_id, job.key), None)
            self._queues.pop(chat_id, None)
            self._senders.pop(chat_id, None)

    async def _acquire(self, chat_id: int, *, urgent: bool) -> bool:
        """Take the chat's next token; False when a code was posted to the chat while it
        waited for a card edit's or a notice's token (nothing taken then).

        At the bot's limit a card edit's token waits as long as codes anywhere wait
        (bot/pacing.py), so a chat's own code posted meanwhile must not wait behind it:
        the wait is broken off and the token asked for again as a code's."""
        if urgent:
            await self.pacer.acquire(chat_id, urgent=True)
            return True
        code_came = self._code_posted[chat_id] = asyncio.Event()
        acquiring = asyncio.ensure_future(self.pacer.acquire(chat_id, urgent=False))
        woken = asyncio.ensure_future(code_came.wait())
        try:
            await asyncio.wait((acquiring, woken), return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            if self._code_posted.get(chat_id) is code_came:
                del self._code_posted[chat_id]
            if not acquiring.done():
                acquiring.cancel()
                await asyncio.wait((acquiring,))  # never raises: a cancel of ours goes on
        if acquiring.cancelled():
            return False
        acquiring.result()  # the token is taken (or the pacer's error is raised)
        return True

    async def _run(self, chat_id: int, job: Job) -> None:
        token = CURRENT.set(Sending(chat_id, urgent=job.priority == CODE))
        try:
            result = await job.run()
        except asyncio.CancelledError:
            for waiter in job.waiters:
                waiter.cancel()
            raise
        except Exception as exc:
            if not job.waiters:
                log.warning("message to chat %s not sent: %s", chat_id, exc,
                            exc_info=not _expected(exc))
            for waiter in job.waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
        else:
            for waiter in job.waiters:
                if not waiter.done():
                    waiter.set_result(result)
        finally:
            CURRENT.reset(token)

    async def drain(self, timeout: float) -> None:
        """Wait a little for what is queued (shutdown)."""
        senders = list(self._senders.values())
        if senders:
            await asyncio.wait(senders, timeout=timeout)

    async def close(self) -> None:
        """Stop every sender; codes not sent stay undelivered in the database and are
        sent after the restart (bot/outbox.py deliver_pending)."""
        self._closed = True
        senders = list(self._senders.values())
        for task in senders:
            task.cancel()
        if senders:
            await asyncio.wait(senders, timeout=2.0)


def _expected(exc: Exception) -> bool:
    return isinstance(exc, ChatUnavailable | TelegramAPIError)
