"""Both emulators in one process of their own, for benchmarks of the real `python -m bot`.

    python -m bench.emulators [--token TOKEN]

Serves the KoalaSMS provider sandbox and the Telegram Bot API emulator on 127.0.0.1 and a
small control API the driver (`bench.delivery`) uses, then prints one JSON line with the
three addresses and runs until killed. The bot, the emulators and the driver are three
processes, so the bot's CPU time and memory are its own.

Control API (JSON in, JSON out), on the ``control`` address:

- ``POST /seed`` ``{"keys", "activations", "users", "group_activations", "hanging_keys"}``:
  creates the provider accounts (one key per user), the users' private chats, and running
  activations at the provider, each with a placeholder card message in its chat (the bot
  edits it when the code comes, as it edits a card it sent itself). Returns what the
  driver needs to write the same world into the bot's database. Activations go round-robin
  over the first ``keys`` keys. ``group_activations`` more are bought with one extra key and
  live in one group chat; ``hanging_keys`` extra keys get one activation each and every
  provider request made with them hangs (longer than the bot's client time-out).
- ``POST /deliver`` ``{"rate", "group429": bool, "stall_seconds", "retry_after"}``:
  starts sending one SMS per measured activation at ``rate`` per second. The stalled
  activations (group or hanging keys) get their codes first, all at once; they are counted
  apart, not measured. With ``group429`` the group chat answers every send with 429
  (``retry_after``, 10 s by default). The 429s and the hanging keys last
  ``stall_seconds``, or the whole run when it is null. ``"by_chat": true`` sends each
  chat's codes one after another (a burst per chat) instead of round-robin over chats.
- ``GET /results``: for each measured code, when the provider got the SMS and when the
  Telegram emulator got the bot's message (sendMessage) containing it, both on this
  process's monotonic clock.
- ``GET /stats``: request counts at both emulators.
- ``GET /trace``: every Telegram request (method, chat, time, status) and every
  getActiveActivations (key index, time), with each measured code's chat and SMS time, all
  on the monotonic clock: where a late code spent its time.
- ``POST /menus`` ``{"rounds"}``: every seeded user sends /start, /balance, /buy at once,
  ``rounds`` times; returns message-to-answer times per command and the wall time.
- ``POST /hello``: every seeded user sends /start once (to make the bot meet them all);
  returns when every one was answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox, SandboxActivation
from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator

TOKEN = "123456:BENCH-token-for-the-emulator"
SERVICE, COUNTRY, COST = "wa", 22, 10.0
FLOOD_RETRY_AFTER = 10
CODE_RE = re.compile(r"\b\d{8}\b")


def bench_key(i: int) -> str:
    return f"benchKey{i:06d}0123456789abcdef"


def bench_code(i: int) -> str:
    """Unique per activation; eight digits so it is found by CODE_RE and nothing else."""
    return f"{70000000 + i:08d}"


class _Hang(Exception):
    """Raised in the synchronous dispatch, caught in the asynchronous handler."""


class BenchProvider(ProviderSandbox):
    """The sandbox, with an index by key and hanging keys.

    The plain sandbox scans every activation on every request; with thousands of keys
    polled every tick that scan (O(keys x activations)) would make the emulator, not the
    bot, the bottleneck. Activations here live a day, so the expiry scan is skipped too.
    """

    def __init__(self) -> None:
        super().__init__(lifetime=86400.0, cancel_delay=0.0)
        self._by_key: dict[str, dict[int, SandboxActivation]] = {}
        self.hanging: set[str] = set()

    def seed_activation(self, key: str) -> SandboxActivation:
        """A running activation, as getNumberV2 leaves it, without the HTTP round trip."""
        now = self.now()
        act = SandboxActivation(
            id=self._next_id, api_key=key, service=SERVICE, country=COUNTRY, provider_id=0,
            phone=self._new_phone(COUNTRY), cost=COST, created=now,
            cancel_at=now + self.cancel_delay, end_at=now + self.lifetime)
        self._next_id += 1
        self._activations[act.id] = act
        self._by_key.setdefault(key, {})[act.id] = act
        return act

    def _expire(self) -> None:
        return None

    def _get_number(self, key: str, p: dict[str, str], *, v2: bool) -> Any:
        first = self._next_id
        answer = super()._get_number(key, p, v2=v2)
        for bought in range(first, self._next_id):  # a number bought through the menus
            self._by_key.setdefault(key, {})[bought] = self._activations[bought]
        return answer

    def _active(self, key: str) -> Any:
        everything = self._activations
        self._activations = self._by_key.get(key, {})
        try:
            return super()._active(key)
        finally:
            self._activations = everything

    def _dispatch(self, action: str, p: dict[str, str]) -> Any:
        if p.get("api_key") in self.hanging:
            raise _Hang
        return super()._dispatch(action, p)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await super()._handle(request)
        except _Hang:  # logged as a request by super(), then held past the client's time-out
            return await self._fault(request, "timeout", 1)


@dataclass
class Pending:
    code: str
    posted: float | None = None
    received: float | None = None


class BenchTelegram(TelegramEmulator):
    """The emulator, noting when each bot message arrives (codes and menu answers)."""

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.codes: dict[str, Pending] = {}  # measured
        self.stalled: dict[str, Pending] = {}  # behind a stall, not measured
        self.waiters: dict[int, asyncio.Future[float]] = {}

    def _new_message(self, chat: EmuChat, sender: dict[str, Any], *, from_bot: bool,
                     **kwargs: Any) -> EmuMessage:
        msg = super()._new_message(chat, sender, from_bot=from_bot, **kwargs)
        if from_bot:
            now = time.monotonic()
            for code in CODE_RE.findall(msg.text):
                pending = self.codes.get(code) or self.stalled.get(code)
                if pending is not None and pending.received is None:
                    pending.received = now
            waiter = self.waiters.pop(chat.id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        return msg


@dataclass
class World:
    provider: BenchProvider
    tg: BenchTelegram
    users: list[EmuUser] = field(default_factory=list)
    measured: list[tuple[int, str]] = field(default_factory=list)  # (provider id, code)
    stalled: list[tuple[int, str]] = field(default_factory=list)
    group: EmuChat | None = None
    chat_of: dict[int, int] = field(default_factory=dict)  # provider id -> chat id
    deliverer: asyncio.Task[None] | None = None

    def seed(self, keys: int, activations: int, users: int, group_activations: int,
             hanging_keys: int) -> dict[str, Any]:
        users = max(users, keys)
        self.users = [self.tg.add_user(first_name=f"U{i}") for i in range(users)]
        out_users = []
        for i, user in enumerate(self.users):
            key = bench_key(i) if i < keys else None
            if key is not None:
                self.provider.add_account(key, balance=1e9)
            out_users.append({"id": user.id, "key": key})
        out_acts: list[dict[str, Any]] = []

        def buy(key: str, owner: EmuUser, chat: EmuChat, code: str) -> tuple[int, str]:
            act = self.provider.seed_activation(key)
            self.chat_of[act.id] = chat.id
            card = self.tg._new_message(chat, self.tg._bot_user(), from_bot=True,
                                        text=f"card of {act.phone}")
            out_acts.append({"provider_id": act.id, "key": key, "owner": owner.id,
                             "chat_id": chat.id, "phone": act.phone, "cost": act.cost,
                             "card_message_id": card.message_id,
                             "another_sms": act.another_sms})
            return act.id, code

        for n in range(activations):
            owner = self.users[n % keys]
            self.measured.append(buy(bench_key(n % keys), owner, self.tg.private_chat(owner),
                                     bench_code(n)))
        extra = users
        if group_activations:
            admin = self.tg.add_user(first_name="GroupAdmin")
            key = bench_key(extra)
            extra += 1
            self.provider.add_account(key, balance=1e9)
            out_users.append({"id": admin.id, "key": key})
            self.group = self.tg.add_group("Stalled team", admins=[admin])
            for n in range(group_activations):
                self.stalled.append(buy(key, admin, self.group, bench_code(500000 + n)))
        for n in range(hanging_keys):
            owner = self.tg.add_user(first_name=f"Hanging{n}")
            key = bench_key(extra)
            extra += 1
            self.provider.add_account(key, balance=1e9)
            self.provider.hanging.add(key)
            out_users.append({"id": owner.id, "key": key})
            self.stalled.append(buy(key, owner, self.tg.private_chat(owner),
                                    bench_code(600000 + n)))
        for _, code in self.measured:
            self.tg.codes[code] = Pending(code)
        for _, code in self.stalled:
            self.tg.stalled[code] = Pending(code)
        return {"users": out_users, "activations": out_acts}

    def _sms(self, provider_id: int, code: str) -> None:
        self.provider.deliver_sms(provider_id, code)

    async def deliver(self, rate: float, group429: bool, stall_seconds: float | None,
                      retry_after: int = FLOOD_RETRY_AFTER, by_chat: bool = False) -> None:
        loop = asyncio.get_running_loop()
        if group429 and self.group is not None:
            self.tg.flood(self.group, retry_after=retry_after, count=10**9)
            if stall_seconds is not None:
                loop.call_later(stall_seconds, self.tg.flood, self.group, 0, 0)
        if stall_seconds is not None and self.provider.hanging:
            loop.call_later(stall_seconds, self.provider.hanging.clear)
        for provider_id, code in self.stalled:
            self._sms(provider_id, code)  # all at once: they pile up behind the stall
        start = loop.time()
        order = self.measured
        if by_chat:  # each chat's codes one after another: a burst per chat
            order = sorted(order, key=lambda m: (self.chat_of[m[0]], m[0]))
        for n, (provider_id, code) in enumerate(order):
            # A fixed schedule, not a sleep per SMS: lateness does not accumulate.
            delay = start + n / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._sms(provider_id, code)
            self.tg.codes[code].posted = time.monotonic()

    def results(self) -> dict[str, Any]:
        rows = [(p.code, p.posted, p.received) for p in self.tg.codes.values()]
        return {"expected": len(rows),
                "posted": sum(1 for _, posted, _ in rows if posted is not None),
                "delivered": sum(1 for _, _, got in rows if got is not None),
                "codes": rows,
                "stalled": len(self.tg.stalled),
                "stalled_delivered": sum(1 for p in self.tg.stalled.values()
                                         if p.received is not None)}

    def trace(self) -> dict[str, Any]:
        wall_to_mono = time.monotonic() - time.time()  # the request log keeps time.time()
        code_chat = {code: self.chat_of[pid] for pid, code in self.measured}
        return {
            "telegram": [(r.method, r.chat_id, r.at + wall_to_mono, r.status)
                         for r in self.tg.requests if r.method != "getUpdates"],
            "polls": [(at, int(key[8:14]) if key.startswith("benchKey") else -1)
                      for at, action, key in self.provider.key_log
                      if action == "getActiveActivations"],
            "codes": [(p.code, code_chat[p.code], p.posted, p.received)
                      for p in self.tg.codes.values()],
        }

    async def answer_time(self, chat: EmuChat, text: str, timeout: float = 120.0) -> float:
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.tg.waiters[chat.id] = waiter
        started = time.monotonic()
        await chat.send(text)
        return await asyncio.wait_for(waiter, timeout) - started

    async def menus(self, rounds: int) -> dict[str, Any]:
        chats = [self.tg.private_chat(u) for u in self.users]
        out: dict[str, Any] = {}
        for command in ("/start", "/balance", "/buy"):
            samples: list[float] = []
            wall = time.monotonic()
            for _ in range(rounds):
                samples += await asyncio.gather(*(self.answer_time(c, command) for c in chats))
            out[command] = {"samples": samples, "wall": time.monotonic() - wall}
        return out

    async def hello(self, concurrency: int = 200) -> float:
        gate = asyncio.Semaphore(concurrency)

        async def one(user: EmuUser) -> None:
            async with gate:
                await self.answer_time(self.tg.private_chat(user), "/start")

        started = time.monotonic()
        await asyncio.gather(*(one(u) for u in self.users))
        return time.monotonic() - started


def control_app(world: World) -> web.Application:
    async def body(request: web.Request) -> dict[str, Any]:
        data = await request.json() if request.can_read_body else {}
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return data

    async def seed(request: web.Request) -> web.Response:
        d = await body(request)
        keys = int(d["keys"])
        return web.json_response(world.seed(
            keys, int(d.get("activations", 0)), int(d.get("users", keys)),
            int(d.get("group_activations", 0)), int(d.get("hanging_keys", 0))))

    async def deliver(request: web.Request) -> web.Response:
        d = await body(request)
        world.deliverer = asyncio.create_task(
            world.deliver(float(d.get("rate", 10.0)), bool(d.get("group429", False)),
                          None if d.get("stall_seconds") is None
                          else float(d["stall_seconds"]),
                          int(d.get("retry_after", FLOOD_RETRY_AFTER)),
                          bool(d.get("by_chat", False))))
        return web.json_response({"ok": True})

    async def results(request: web.Request) -> web.Response:
        return web.json_response(world.results())

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({
            "getActiveActivations": world.provider.calls("getActiveActivations"),
            "provider_requests": len(world.provider.requests),
            "getUpdates": world.tg.count("getUpdates"),
            "telegram_requests": len(world.tg.requests)})

    async def trace(request: web.Request) -> web.Response:
        return web.json_response(world.trace())

    async def menus(request: web.Request) -> web.Response:
        d = await body(request)
        return web.json_response(await world.menus(int(d.get("rounds", 3))))

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"wall": await world.hello()})

    app = web.Application()
    app.router.add_post("/seed", seed)
    app.router.add_post("/deliver", deliver)
    app.router.add_get("/results", results)
    app.router.add_get("/stats", stats)
    app.router.add_get("/trace", trace)
    app.router.add_post("/menus", menus)
    app.router.add_post("/hello", hello)
    return app


async def serve(token: str) -> None:
    provider = BenchProvider()
    provider.load_demo_catalogue()
    tg = BenchTelegram(token)
    await provider.start()
    await tg.start()
    world = World(provider, tg)
    runner = web.AppRunner(control_app(world), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(json.dumps({"provider": f"{provider.base_url}{ENDPOINT_PATH}", "telegram": tg.url,
                      "control": f"http://127.0.0.1:{port}"}), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await tg.stop()
        await provider.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--token", default=TOKEN)
    asyncio.run(serve(parser.parse_args().token))


if __name__ == "__main__":
    main()
