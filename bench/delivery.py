"""What users feel: SMS at the provider -> code message at Telegram, with the real bot.

    python -m bench.delivery --keys 1000 --activations 1000 --rate 10 --runs 3 \\
        [--stall group429|hanging-keys [--stall-seconds S] [--retry-after S]] \\
        [--sms-age S] [--background N] [--by-chat] [--trace DIR] [--emu-trace FILE] \\
        [--poll-interval 2] [--timeout 120] [--write]
    python -m bench.delivery --menus --users 50 [--rounds 3] [--runs 3] [--write]
    python -m bench.delivery --rss --users 10000 [--activations 0] [--runs 1] [--write]

Three processes: this driver, the emulators (`python -m bench.emulators`: provider sandbox
and Telegram emulator, which time every code) and the bot (`python -m bot`, exactly as
deployed, with SQLite in a temporary folder). Each run starts all of them afresh.

The bot's database is seeded directly through the storage layer (the real migrations,
models and key encryption: users, accounts with encrypted keys, activations in the
`waiting` state with their card message ids), not by thousands of users typing /key and
tapping through the buy menus: a 5,000-key row would otherwise take longer to set up than
to measure, and the set-up is not what is measured. The emulators seed the matching
provider accounts, activations and card messages.

Delivery latency = time the Telegram emulator receives the bot's sendMessage carrying the
code minus the time the SMS was posted at the provider, both taken in the emulators'
process. Stall cases: `group429` = one group chat answers every send with 429 while 40 of
its codes are pending; `hanging-keys` = eight more keys, each with a running activation,
whose every provider request hangs. Their codes are not counted; the table shows the
other users' latency, to compare with the healthy row. By default a stall lasts the whole
run; `--stall-seconds` ends it earlier. `--timeout` is how long the driver waits after the
last SMS for the last code; a code still missing then counts as infinitely late.

`--write` appends the table, the command line and the machine to bench/RESULTS.md. Not
the bot's code, not the emulators' timing: this driver only seeds, starts, waits, reads
/proc/<pid>/status for the bot's memory, and does the statistics.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import bindparam
from sqlalchemy.exc import OperationalError

from bench.emulators import TOKEN
from bench.poll_trace import summarise
from storage.crypto import KeyBox, mask_key
from storage.db import create_engine, migrate, session_factory
from storage.models import Account, Activation, User
from storage.states import ActivationState

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "bench-secret-key-0123456789abcdef"
GROUP_STALLED = 40
HANGING_KEYS = 8
CANCEL_AFTER = timedelta(seconds=120)
SEEDED_AGE = 600.0  # --sms-age: every number was bought this long ago until "bought" again
OLD_AFTER = 180.0  # bot.poller.FAST_FOR: older numbers are polled every SLOW_POLL only


# ---------------------------------------------------------------------- measuring


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


def spread(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    """min / median / max over runs, or the single value."""
    if len(values) == 1:
        return fmt.format(values[0])
    return " / ".join(fmt.format(v) for v in (min(values), statistics.median(values),
                                              max(values)))


def machine() -> str:
    model = "unknown CPU"
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}; load average at start {load}")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MiB."""
    fields: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# ---------------------------------------------------------------------- processes


@dataclass
class Emulators:
    process: asyncio.subprocess.Process
    provider: str
    telegram: str
    control: str
    http: aiohttp.ClientSession
    seeded_at: float = 0.0  # monotonic (system-wide): when the numbers were "bought"
    world: dict[str, Any] = field(default_factory=dict)  # what /seed answered

    async def get(self, path: str) -> Any:
        async with self.http.get(self.control + path) as response:
            response.raise_for_status()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], timeout: float = 600.0) -> Any:
        async with self.http.post(self.control + path, json=body,
                                  timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            response.raise_for_status()
            return await response.json()


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
        await process.wait()


@asynccontextmanager
async def emulators() -> AsyncIterator[Emulators]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.emulators", "--token", TOKEN, env=child_env(),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise RuntimeError("the emulators' process ended before it started serving")
        where = json.loads(line)
        async with aiohttp.ClientSession() as http:
            yield Emulators(process, where["provider"], where["telegram"], where["control"],
                            http)
    finally:
        await stop(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


TRACE = "poll-trace.jsonl"  # in the run's folder, with --trace


@asynccontextmanager
async def bot(folder: Path, emu: Emulators, db_url: str, poll_interval: float,
              trace: bool = False, python_args: Sequence[str] = ("-m", "bot"),
              extra_env: Mapping[str, str] | None = None,
              ) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python_args`: bench.heap runs the bot under a wrapper that dumps its heap;
    `trace` runs it under bench.poll_trace instead. `extra_env`: more settings."""
    env = {**child_env(), "BOT_TOKEN": TOKEN, "SECRET_KEY": SECRET,
           "KOALA_API_URL": emu.provider, "TELEGRAM_API_URL": emu.telegram,
           "DATABASE_URL": db_url, "POLL_INTERVAL": str(poll_interval),
           "LOG_LEVEL": "WARNING", **(extra_env or {})}
    with (folder / "bot.log").open("wb") as log:
        command = (["-m", "bench.poll_trace", str(folder / TRACE)] if trace
                   else list(python_args))
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=folder, env=env, stdout=log,
            stderr=asyncio.subprocess.STDOUT)
        try:
            yield process
        finally:
            await stop(process)


async def wait_until(check: Callable[[], Any], timeout: float, what: str,
                     folder: Path) -> Any:
    """Poll an async check until it returns something true; AssertionError with the bot's
    log tail when it does not in time."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            log = (folder / "bot.log").read_text(errors="replace")[-3000:]
            raise AssertionError(f"{what}: not within {timeout:.0f} s\nbot log:\n{log}")
        await asyncio.sleep(0.2)


async def seed_database(db_url: str, world: dict[str, Any], poll_interval: float,
                        bought_before: float = 0.0) -> None:
    """Write the emulators' world into the bot's database (see the module docstring).
    Every number was bought `bought_before` seconds ago (its card drawn since its cancel
    window opened when that is over 120 s)."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        keybox = KeyBox(SECRET)
        now = datetime.now(UTC)
        async with session_factory(engine)() as session:
            accounts: dict[str, Account] = {}
            for user in world["users"]:
                session.add(User(id=user["id"], language="en"))
                if user["key"] is not None:
                    account = Account(owner_id=user["id"],
                                      key_encrypted=keybox.encrypt(user["key"]),
                                      key_hint=mask_key(user["key"]), linked_by=user["id"])
                    accounts[user["key"]] = account
                    session.add(account)
            await session.flush()  # account ids
            for a in world["activations"]:
                account_id = accounts[a["key"]].id
                assert account_id is not None
                bought = now - timedelta(seconds=bought_before)
                session.add(Activation(
                    provider_id=a["provider_id"], account_id=account_id,
                    chat_id=a["chat_id"], buyer_id=a["owner"],
                    card_message_id=a["card_message_id"], service="wa", country=22,
                    phone=a["phone"], cost=a["cost"], state=ActivationState.WAITING,
                    # As the provider says: a flag that differs is written on the first
                    # poll, 1,000 writes queued in front of the measured codes.
                    can_get_another_sms=a.get("can_get_another_sms", False),
                    bought_at=bought, cancel_at=bought + CANCEL_AFTER,
                    card_refreshed_at=now if bought_before else None,
                    ends_at=now + timedelta(days=1), updated_at=now))
            await session.commit()
    finally:
        await engine.dispose()


@asynccontextmanager
async def seeded_bot(keys: int, activations: int, users: int, poll_interval: float,
                     stall: str | None, trace: bool = False, background: int = 0,
                     bought_before: float = 0.0,
                     python_args: Sequence[str] = ("-m", "bot"),
                     extra_env: Mapping[str, str] | None = None,
                     ) -> AsyncIterator[tuple[Emulators,
                                                             asyncio.subprocess.Process,
                                                             Path]]:
    """Fresh emulators, a seeded database and the bot, polling and past its first tick."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        db_url = f"sqlite+aiosqlite:///{folder / 'bot.db'}"
        async with emulators() as emu:
            world = await emu.post("/seed", {
                "keys": keys, "activations": activations, "users": users,
                "group_activations": GROUP_STALLED if stall == "group429" else 0,
                "hanging_keys": HANGING_KEYS if stall == "hanging-keys" else 0,
                "background": background})
            emu.seeded_at = time.monotonic() - bought_before  # bought_at, every number
            emu.world = world
            await seed_database(db_url, world, poll_interval, bought_before)
            polled = len({a["key"] for a in world["activations"]})
            async with bot(folder, emu, db_url, poll_interval, trace,
                           python_args, extra_env) as process:
                async def polling() -> bool:
                    if process.returncode is not None:
                        raise AssertionError(
                            "the bot exited:\n"
                            + (folder / "bot.log").read_text(errors="replace")[-3000:])
                    stats = await emu.get("/stats")
                    polled = activations == 0 or stats["getActiveActivations"] >= 1
                    return bool(stats["getUpdates"] >= 1 and polled)

                await wait_until(polling, 120, "the bot polling Telegram and the provider",
                                 folder)

                async def settled() -> bool:
                    # Start-up work (first ticks, cards) is not measured: two rounds of
                    # every account's poll first, then one more interval.
                    stats = await emu.get("/stats")
                    return bool(stats["getActiveActivations"] >= 2 * polled - HANGING_KEYS)

                await wait_until(settled, 300, "two poll rounds over every account", folder)
                await asyncio.sleep(poll_interval)
                yield emu, process, folder


# ---------------------------------------------------------------------- the modes


@dataclass
class DeliveryRun:
    p50: float
    p99: float
    delivered: int
    expected: int
    rss: float
    peak: float
    stalled: int = 0
    stalled_delivered: int = 0
    bot_cpu: float = 0.0  # seconds of CPU from the first SMS to the last code
    emu_cpu: float = 0.0
    window: float = 0.0  # wall seconds of that window
    # Each SMS posted: its number's age then (s since bought_at) and its latency.
    ages: list[tuple[float, float]] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)


class Purchases:
    """--sms-age: number n is "bought" (its row's bought_at, cancel_at and card time moved
    to then) `age` seconds before its SMS, which comes at start + n / rate; the other
    numbers stay as seeded (bought long ago). Rows are written in small batches from
    this process, as the bot's own purchases would be, while the bot runs."""

    def __init__(self, db_url: str, provider_ids: list[int], rate: float, age: float) -> None:
        self.db_url, self.ids, self.rate, self.age = db_url, provider_ids, rate, age
        self.bought: list[float] = []  # monotonic, per measured number, as written

    def at(self, start: float, n: int) -> float:
        return start + n / self.rate - self.age

    async def run(self, start: float) -> None:
        engine = create_engine(self.db_url)
        table = Activation.__table__  # type: ignore[attr-defined]
        change = (table.update().where(table.c.provider_id == bindparam("pid"))
                  .values(bought_at=bindparam("bought"), cancel_at=bindparam("cancel"),
                          card_refreshed_at=bindparam("bought")))
        try:
            while len(self.bought) < len(self.ids):
                now = time.monotonic()
                batch: list[dict[str, Any]] = []
                while (len(self.bought) + len(batch) < len(self.ids)
                       and self.at(start, len(self.bought) + len(batch)) <= now):
                    n = len(self.bought) + len(batch)
                    wall = datetime.now(UTC) - timedelta(seconds=now - self.at(start, n))
                    batch.append({"pid": self.ids[n], "bought": wall,
                                  "cancel": wall + CANCEL_AFTER})
                if batch:
                    while True:
                        try:
                            async with engine.begin() as connection:
                                await connection.execute(change, batch)
                            break
                        except OperationalError as exc:  # locked past the 30 s busy wait
                            print(f"warning: purchases wait for the database: {exc.orig}",
                                  file=sys.stderr)
                    self.bought += [self.at(start, len(self.bought) + i)
                                    for i in range(len(batch))]
                    continue
                await asyncio.sleep(min(0.2, max(0.01, self.at(start, len(self.bought))
                                                 - time.monotonic())))
        finally:
            await engine.dispose()


async def delivery_run(args: argparse.Namespace) -> DeliveryRun:
    old = 0.0 if args.sms_age is None else SEEDED_AGE
    async with seeded_bot(args.keys, args.activations, args.keys, args.poll_interval,
                          args.stall, args.trace, args.background,
                          old) as (emu, process, folder):
        cpu_before = cpu_seconds(process.pid), cpu_seconds(emu.process.pid)
        purchases: Purchases | None = None
        buying: asyncio.Task[None] | None = None
        if args.sms_age is not None:
            purchases = Purchases(f"sqlite+aiosqlite:///{folder / 'bot.db'}",
                                  [a["provider_id"]
                                   for a in emu.world["activations"][:args.activations]],
                                  args.rate, args.sms_age)
            buying = asyncio.create_task(purchases.run(time.monotonic()))
            await asyncio.sleep(0)  # the numbers bought before the first SMS, first
        window_start = time.monotonic()
        await emu.post("/deliver", {"rate": args.rate, "group429": args.stall == "group429",
                                    "stall_seconds": args.stall_seconds,
                                    "retry_after": args.retry_after,
                                    "by_chat": args.by_chat})
        # Every SMS posted, then time for the slowest to arrive (generous: no hang).
        budget = args.activations / args.rate + args.timeout

        async def all_delivered() -> dict[str, Any] | None:
            results: dict[str, Any] = await emu.get("/results")
            return results if results["delivered"] == results["expected"] else None

        try:
            results = await wait_until(all_delivered, budget, "every code delivered", folder)
        except AssertionError as exc:
            results = await emu.get("/results")
            print(f"warning: {results['delivered']}/{results['expected']} codes delivered "
                  f"({str(exc).splitlines()[0]})", file=sys.stderr)
        rss, peak = rss_mib(process.pid)
        if args.emu_trace:
            requests = json.dumps(await emu.get("/trace"))
            await asyncio.to_thread(Path(args.emu_trace).write_text, requests)
        if buying is not None:
            await buying
        window = time.monotonic() - window_start
        bot_cpu = cpu_seconds(process.pid) - cpu_before[0]
        emu_cpu = cpu_seconds(emu.process.pid) - cpu_before[1]
        trace = {}
        if args.trace:
            trace = summarise(folder / TRACE, since=window_start)
            keep = Path(args.trace) / f"run-{time.strftime('%H%M%S')}"
            keep.mkdir(parents=True, exist_ok=True)
            for kept in folder.glob(TRACE.split(".")[0] + "*"):
                (keep / kept.name).write_bytes(kept.read_bytes())
            (keep / "codes.json").write_text(json.dumps(
                {"window_start": window_start, "seeded_at": emu.seeded_at, **results}))
            trace["kept in"] = str(keep)
    # A code that never came counts as infinitely late: the percentiles say "inf" rather
    # than describe only the lucky ones.
    latencies = [got - posted if posted is not None and got is not None else float("inf")
                 for _, posted, got in results["codes"]] or [float("nan")]
    bought = purchases.bought if purchases is not None else []
    ages = [(posted - (bought[n] if n < len(bought) else emu.seeded_at), latency)
            for n, ((_, posted, _), latency)
            in enumerate(zip(results["codes"], latencies, strict=True))
            if posted is not None]
    return DeliveryRun(percentile(latencies, 50), percentile(latencies, 99),
                       results["delivered"], results["expected"], rss, peak,
                       results["stalled"], results["stalled_delivered"], bot_cpu, emu_cpu,
                       window, ages, trace)


def out_of(got: Sequence[int], expected: int) -> str:
    """"7/8", or "(5 / 7 / 8)/8" when the runs differ."""
    if len(set(got)) == 1:
        return f"{got[0]}/{expected}"
    return f"({spread(got, '{:.0f}')})/{expected}"


def delivered(runs: list[DeliveryRun]) -> str:
    return out_of([r.delivered for r in runs], runs[0].expected)


def delivery_table(args: argparse.Namespace, runs: list[DeliveryRun]) -> list[str]:
    stall = args.stall or "none"
    if args.stall:
        lasting = "whole run" if args.stall_seconds is None else f"{args.stall_seconds:g} s"
        if args.stall == "group429":
            lasting += f", retry_after {args.retry_after} s"
        stall += f" ({lasting}"
        got = out_of([r.stalled_delivered for r in runs], runs[0].stalled)
        stall += f"; stalled codes delivered {got})"
    # The row is last: the smoke test and readers of the file take the last line.
    return [
        *window_lines(runs),
        "",
        "| keys | activations | codes/s | stall | POLL_INTERVAL | runs | p50 s (min / med / max) "
        "| p99 s (min / med / max) | delivered | bot RSS MiB (peak) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {args.keys} | {args.activations}"
        + (f" (+{args.background} without SMS)" if args.background else "")
        + f" | {args.rate:g}"
        + (" (by chat)" if args.by_chat else "")
        + ("" if args.sms_age is None else f" ({args.sms_age:g} s after purchase)")
        + f" | {stall} | "
        f"{args.poll_interval:g} | {len(runs)} | {spread([r.p50 for r in runs])} | "
        f"{spread([r.p99 for r in runs])} | "
        f"{delivered(runs)} | "
        f"{spread([r.rss for r in runs], '{:.0f}')} "
        f"({spread([r.peak for r in runs], '{:.0f}')}) |",
    ]


def window_lines(runs: list[DeliveryRun]) -> list[str]:
    """CPU of both processes over the measured window, and how old the numbers were."""
    lines = ["| run | window s | bot CPU s (% of one core) | emulators CPU s (% of one core) "
             f"| SMS to numbers older than {OLD_AFTER:g} s | their p50 / p99 s "
             "| younger: p50 / p99 s |", "|---|---|---|---|---|---|---|"]
    for n, r in enumerate(runs, 1):
        old = [lat for age, lat in r.ages if age >= OLD_AFTER]
        young = [lat for age, lat in r.ages if age < OLD_AFTER]

        def p(values: list[float]) -> str:
            return (f"{percentile(values, 50):.2f} / {percentile(values, 99):.2f}"
                    if values else "-")

        share = r.window or float("nan")
        lines.append(f"| {n} | {r.window:.0f} | {r.bot_cpu:.1f} ({100 * r.bot_cpu / share:.0f} %) "
                     f"| {r.emu_cpu:.1f} ({100 * r.emu_cpu / share:.0f} %) | {len(old)}/"
                     f"{len(r.ages)} | {p(old)} | {p(young)} |")
    for n, r in enumerate(runs, 1):
        if r.trace:
            lines += ["", f"Poller trace, run {n} (the measured window): "
                      + "; ".join(f"{k}: {v}" for k, v in r.trace.items())]
    return lines


@dataclass
class MenuRun:
    p50: dict[str, float] = field(default_factory=dict)
    p99: dict[str, float] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)
    rss: float = 0.0


async def menus_run(args: argparse.Namespace) -> MenuRun:
    async with seeded_bot(args.users, 0, args.users, args.poll_interval,
                          None) as (emu, process, _):
        answers = await emu.post("/menus", {"rounds": args.rounds})
        run = MenuRun(rss=rss_mib(process.pid)[0])
    for command, data in answers.items():
        samples = data["samples"]
        run.p50[command] = percentile(samples, 50) * 1000
        run.p99[command] = percentile(samples, 99) * 1000
        run.throughput[command] = len(samples) / data["wall"]
    return run


def menus_table(args: argparse.Namespace, runs: list[MenuRun]) -> list[str]:
    lines = ["| command | users | runs | answers | p50 ms (min / med / max) "
             "| p99 ms (min / med / max) | updates/s (min / med / max) |",
             "|---|---|---|---|---|---|---|"]
    for command in runs[0].p50:
        lines.append(
            f"| `{command}` | {args.users} | {len(runs)} | {args.users * args.rounds} | "
            f"{spread([r.p50[command] for r in runs], '{:.0f}')} | "
            f"{spread([r.p99[command] for r in runs], '{:.0f}')} | "
            f"{spread([r.throughput[command] for r in runs], '{:.0f}')} |")
    return lines


@dataclass
class RssRun:
    idle: float
    after: float
    peak: float
    wall: float


async def rss_run(args: argparse.Namespace) -> RssRun:
    keys = args.users
    async with seeded_bot(keys, args.activations, args.users, args.poll_interval,
                          None) as (emu, process, _):
        idle = rss_mib(process.pid)[0]
        hello = await emu.post("/hello", {}, timeout=3600)
        await asyncio.sleep(3 * args.poll_interval)  # a few ticks over what was seeded
        after, peak = rss_mib(process.pid)
    return RssRun(idle, after, peak, hello["wall"])


def rss_table(args: argparse.Namespace, runs: list[RssRun]) -> list[str]:
    return [
        "| users (each with a key) | running activations | runs | RSS after start, MiB "
        "| RSS after every user sent /start, MiB | peak MiB | /start to all, s |",
        "|---|---|---|---|---|---|---|",
        f"| {args.users} | {args.activations} | {len(runs)} | "
        f"{spread([r.idle for r in runs], '{:.0f}')} | "
        f"{spread([r.after for r in runs], '{:.0f}')} | "
        f"{spread([r.peak for r in runs], '{:.0f}')} | "
        f"{spread([r.wall for r in runs], '{:.1f}')} |",
    ]


# ---------------------------------------------------------------------- main


def command_line(argv: Sequence[str]) -> str:
    return "python -m bench.delivery " + " ".join(argv)


async def run(args: argparse.Namespace, argv: Sequence[str]) -> list[str]:
    where = machine()
    lines: list[str]
    if args.menus:
        lines = menus_table(args, [await menus_run(args) for _ in range(args.runs)])
    elif args.rss:
        lines = rss_table(args, [await rss_run(args) for _ in range(args.runs)])
    else:
        delivery = [await delivery_run(args) for _ in range(args.runs)]
        lines = delivery_table(args, delivery)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [f"`{command_line(argv)}`, {stamp}", "", f"Machine: {where}.", "", *lines]


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--activations", type=int, default=None,
                        help="running activations (default: --keys; 0 with --rss)")
    parser.add_argument("--rate", type=float, default=10.0, help="codes per second")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stall", choices=["group429", "hanging-keys"])
    parser.add_argument("--stall-seconds", type=float, default=None,
                        help="how long the stall lasts (default: the whole run)")
    parser.add_argument("--retry-after", type=int, default=10,
                        help="group429: the retry_after of each 429, in seconds")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds allowed after the last SMS for the last code")
    parser.add_argument("--by-chat", action="store_true",
                        help="each chat's codes one after another (default: round-robin)")
    parser.add_argument("--emu-trace", default=None, metavar="FILE",
                        help="write the last run's Telegram requests and code times (JSON)")
    parser.add_argument("--sms-age", type=float, default=None, metavar="S",
                        help="each number is bought S seconds before its SMS comes (the "
                        "others were bought 10 minutes ago); default: every number bought "
                        "when seeded, so the later SMS come to ever older numbers")
    parser.add_argument("--background", type=int, default=0, metavar="N",
                        help="N more running numbers that get no SMS, after the measured "
                        "ones over the keys (e.g. 1,000 measured codes over 5,000 keys)")
    parser.add_argument("--trace", metavar="DIR", default=None,
                        help="trace the bot's poll ticks (bench/poll_trace.py); keep the "
                        "trace and every code's times in DIR")
    parser.add_argument("--menus", action="store_true", help="menu throughput and p99")
    parser.add_argument("--rss", action="store_true", help="bot memory with many users")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="--menus: rounds per command")
    parser.add_argument("--write", action="store_true",
                        help="append the table to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.activations is None:
        args.activations = 0 if args.rss else args.keys
    if args.menus and args.rss:
        parser.error("--menus and --rss are separate modes")
    return args


def main(argv: Sequence[str] | None = None) -> list[str]:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    lines = asyncio.run(run(args, argv))
    print("\n".join(lines))
    if args.write:
        with RESULTS.open("a") as out:
            out.write("\n" + "\n".join(lines) + "\n")
    return lines


if __name__ == "__main__":
    main()
