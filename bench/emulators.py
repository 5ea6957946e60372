"""Both emulators in one process of their own, for benchmarks of the real `python -m bot`.

    python -m bench.emulators [--token TOKEN]

Serves the KoalaSMS provider sandbox and the Telegram Bot API emulator on 127.0.0.1 and a
small control API the driver (`bench.delivery`) uses, then prints one JSON line with the
three addresses and runs until killed. The bot, the emulators and the driver are three
processes, so the bot's CPU time and memory are its own.

Control API (JSON in, JSON out), on the ``control`` address:

- ``POST /seed`` ``{"keys", "activations", "users", "group_activations", "hanging_keys",
  "background"}``:
  creates the provider accounts (one key per user), the users' private chats, and running
  activations at the provider, each with a placeholder card message in its chat (the bot
  edits it when the code comes, as it edits a card it sent itself). Returns what the
  driver needs to write the same world into the bot's database. Activations go round-robin
  over the first ``keys`` keys, then ``background`` more that get no SMS (running numbers
  polled but not measured). ``group_activations`` more are bought with one extra key and
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
- ``POST /open`` ``{"rate", "seconds", "seed"}``: open-loop menus. Arrivals come at
  ``rate`` per second with exponential gaps (Poisson), whatever the bot's answers; each
  goes to a seeded user picked at random among those not waiting for an answer, who takes
  the next step of a person's round through the menus: /start, /balance, /buy, a service
  (button), a country (button), Back to the countries (button), again (a screen with no
  button for the step, e.g. a service with no numbers, makes that arrival the /start of
  a new round; counted as ``no_button``). Returns the
  message-to-answer times per step (a command: the bot's new message in the chat; a
  button: the pressed menu edited into the next screen, the "Loading…" step not counted),
  the arrivals offered and those that found every user waiting (not sent), and the wall
  time.
- ``POST /webhooks`` ``{"urls", "secret"}``: updates are pushed to these webhook URLs in
  turn (bot instances in webhook mode behind a load balancer) instead of waiting for
  getUpdates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.sandbox.provider import ENDPOINT_PATH, ProviderSandbox, SandboxActivation
from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator
from bot.sandbox.telegram_webhooks import WebhookPusher

TOKEN = "123456:BENCH-token-for-the-emulator"
SERVICE, COUNTRY, COST = "wa", 22, 10.0
FLOOD_RETRY_AFTER = 10
CODE_RE = re.compile(r"\b\d{8}\b")
# A person's round through the menus (`World.open_loop`): three commands, three buttons.
# Each button step names the callback data prefix of the buttons it picks from.
ROUND = ("/start", "/balance", "/buy", "s:pk:", "c:pk:", "c:pg:")


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
        offer = self._offers.get((SERVICE, COUNTRY))
        act = SandboxActivation(
            id=self._next_id, api_key=key, service=SERVICE, country=COUNTRY, provider_id=0,
            phone=self._new_phone(COUNTRY), cost=COST, created=now,
            cancel_at=now + self.cancel_delay, end_at=now + self.lifetime,
            # As getNumberV2 would say for this offer: the bot's row gets the same flag,
            # so its first poll finds nothing to write (a bought number's row has it).
            another_sms=offer.another_sms if offer is not None else True)
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
        # (chat, message): the menu a button was pressed on, edited into the next screen
        self.edit_waiters: dict[tuple[int, int], asyncio.Future[float]] = {}

    def _apply_edit(self, msg: EmuMessage, text: str, html: str | None,
                    entities: list[dict[str, Any]], markup: dict[str, Any] | None
                    ) -> dict[str, Any]:
        result = super()._apply_edit(msg, text, html, entities, markup)
        if markup is not None:  # the next screen; "Loading…" has no buttons
            waiter = self.edit_waiters.pop((msg.chat.id, msg.message_id), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(time.monotonic())
        return result

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
             hanging_keys: int, background: int = 0) -> dict[str, Any]:
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
                             "can_get_another_sms": act.another_sms})
            return act.id, code

        for n in range(activations):
            owner = self.users[n % keys]
            self.measured.append(buy(bench_key(n % keys), owner, self.tg.private_chat(owner),
                                     bench_code(n)))
        for n in range(activations, activations + background):
            # Running numbers that get no SMS (not measured): they are polled like the
            # others, so 1,000 measured codes can be taken over 5,000 keys' polls.
            owner = self.users[n % keys]
            buy(bench_key(n % keys), owner, self.tg.private_chat(owner), "")
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

    async def step(self, chat: EmuChat, what: str, menu: int | None,
                   rng: random.Random, timeout: float = 30.0) -> tuple[float, int | None]:
        """One step of a person's round: (message-to-answer seconds, the open menu).
        Raises LookupError when the screen has no button for the step."""
        if what.startswith("/"):
            seconds = await self.answer_time(chat, what, timeout)
            return seconds, self.newest_menu(chat) if what == "/buy" else menu
        shown = chat.message(menu) if menu is not None else None
        rows = (shown.reply_markup or {}).get("inline_keyboard", []) if shown else []
        choices = [str(b["callback_data"]) for row in rows for b in row
                   if str(b.get("callback_data", "")).startswith(what)]
        if what == "s:pk:":  # a service (s:pk:owner:page:svc:q), not an entry without one
            choices = [c for c in choices if c.split(":")[4]]
        if shown is None or not choices:
            raise LookupError(f"{what} on {shown.text[:60] if shown else None!r}")
        data = choices[-1] if what == "c:pg:" else rng.choice(choices)
        loop = asyncio.get_running_loop()
        edited: asyncio.Future[float] = loop.create_future()
        sent: asyncio.Future[float] = loop.create_future()
        self.tg.edit_waiters[(chat.id, shown.message_id)] = edited
        self.tg.waiters[chat.id] = sent  # the screen may come as a new message
        started = time.monotonic()
        press = asyncio.create_task(chat.press_data(data, shown.message_id, timeout=timeout))
        try:
            done, _ = await asyncio.wait((edited, sent), timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if not done:
                raise TimeoutError(what)
            answered = min(f.result() for f in done)
            await press  # the spinner stopped too before the next step
        finally:
            self.tg.edit_waiters.pop((chat.id, shown.message_id), None)
            self.tg.waiters.pop(chat.id, None)
            press.cancel()
        if sent.done() and not edited.done():
            menu = self.newest_menu(chat)
        return answered - started, menu

    @staticmethod
    def newest_menu(chat: EmuChat) -> int | None:
        """The newest bot message with buy buttons (cards in the chat have others)."""
        for msg in reversed(chat.bot_messages):
            rows = (msg.reply_markup or {}).get("inline_keyboard", [])
            if any(str(b.get("callback_data", ""))[:2] in ("s:", "c:", "b:", "p:")
                   for row in rows for b in row):
                return msg.message_id
        return None

    async def open_loop(self, rate: float, seconds: float, seed: int = 1) -> dict[str, Any]:
        rng = random.Random(seed)
        loop = asyncio.get_running_loop()
        chats = [self.tg.private_chat(u) for u in self.users]
        position = [0] * len(chats)  # next step of each person's round
        menu: list[int | None] = [None] * len(chats)
        idle = set(range(len(chats)))
        samples: dict[str, list[float]] = {what: [] for what in ROUND}
        failed: dict[str, int] = {}
        why: list[str] = []  # the first few failures, for whoever reads the results
        no_button = [0]  # steps whose screen had no button for them
        busy: set[asyncio.Task[None]] = set()

        async def person(i: int) -> None:
            what = ROUND[position[i]]
            try:
                try:
                    took, menu[i] = await self.step(chats[i], what, menu[i], rng)
                except LookupError:  # e.g. a service with no numbers: a new round instead
                    no_button[0] += 1
                    what = ROUND[0]
                    position[i] = 0
                    took, menu[i] = await self.step(chats[i], what, menu[i], rng)
            except (TimeoutError, AssertionError) as exc:
                failed[what] = failed.get(what, 0) + 1
                if len(why) < 10:
                    why.append(f"{type(exc).__name__}: {exc}"[:200])
                position[i] = 0  # start the round again
            else:
                samples[what].append(took)
                position[i] = (position[i] + 1) % len(ROUND)
            finally:
                idle.add(i)

        offered = refused = 0
        start = at = loop.time()
        while True:
            at += rng.expovariate(rate)  # a fixed schedule: lateness does not accumulate
            if at - start >= seconds:
                break
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            offered += 1
            if not idle:
                refused += 1  # everyone is waiting for the bot: this arrival is lost
                continue
            i = rng.choice(tuple(idle))
            idle.discard(i)
            task = asyncio.create_task(person(i))
            busy.add(task)
            task.add_done_callback(busy.discard)
        if busy:
            await asyncio.wait(busy, timeout=60)
        return {"samples": samples, "failed": failed, "why": why,
                "no_button": no_button[0], "offered": offered, "refused": refused,
                "wall": loop.time() - start}

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
            int(d.get("group_activations", 0)), int(d.get("hanging_keys", 0)),
            int(d.get("background", 0))))

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

    async def open_loop(request: web.Request) -> web.Response:
        d = await body(request)
        return web.json_response(await world.open_loop(
            float(d.get("rate", 100.0)), float(d.get("seconds", 10.0)), int(d.get("seed", 1))))

    pushers: list[WebhookPusher] = []

    async def webhooks(request: web.Request) -> web.Response:
        # Several bot instances in webhook mode: updates go to each URL in turn.
        d = await body(request)
        pusher = WebhookPusher(world.tg, [str(u) for u in d["urls"]],
                               secret=d.get("secret"))
        await pusher.start()
        pushers.append(pusher)
        return web.json_response({"ok": True})

    async def stop_pushers(_: web.Application) -> None:
        for pusher in pushers:
            await pusher.stop()

    app = web.Application()
    app.on_cleanup.append(stop_pushers)
    app.router.add_post("/webhooks", webhooks)
    app.router.add_post("/seed", seed)
    app.router.add_post("/deliver", deliver)
    app.router.add_get("/results", results)
    app.router.add_get("/stats", stats)
    app.router.add_get("/trace", trace)
    app.router.add_post("/menus", menus)
    app.router.add_post("/hello", hello)
    app.router.add_post("/open", open_loop)
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
