"""Menu answers of the real bot: CPU per update, message-to-answer time, throughput.

    python -m bench.latency [--users 50] [--activations 1000] [--rounds 3] [--runs 3] \\
        [--profile DIR]
    python -m bench.latency --rate 200 300 [--seconds 20] [--warmup 5] [--users 50] ...
    python -m bench.latency --rate 300 --activations 0 --bot bench.floor_bot

Two modes. The burst (default) measures capacity; `--rate` measures what people feel at a
steady offered rate.

The real `python -m bot` process (SQLite) against the emulators' process
(`python -m bench.emulators`), started afresh for each run through `bench.delivery`'s
helpers: `--users` users, each with a key, and `--activations` running numbers spread over
their keys, polled every 2 s while every user sends /start, /balance and /buy at once,
`--rounds` times each (`POST /menus` of the emulators).

The machine is shared, so the first figure is the bot's own CPU time (utime + stime from
/proc/<pid>/stat) over the menus, divided by the updates; the CPU the poller spends over
the same time is part of it (the idle rate, measured just before, is printed too). The
emulators' process is timed the same way: on 2 cores the two processes share the CPU. Wall
figures follow: message-to-answer p50/p99 at the Telegram emulator, updates per second,
and the share of updates the bot's own handler histogram puts within 50 ms (its
`koalabot_handler_seconds` bucket, read from the metrics port). Each figure is min /
median / max over the runs, with the load average at the start of each run.

Burst: a capacity figure. 150 updates arrive at the same instant, so the last answer
waits for the CPU of all the others: its p99 says how long the burst takes to drain, not
what a person feels at a rate the bot can sustain.

Open loop (`--rate R ...`, `POST /open` of the emulators): the same users, while the
same activations are polled, send their commands and press the menus' buttons (a round:
/start, /balance, /buy, a service, a country, Back) at R updates per second offered, with
Poisson arrivals, for `--seconds` after `--warmup` seconds at the same rate (not counted:
the first /buy of each person reads rows that are then kept). Each arrival goes to a user
who is not waiting for an answer; an arrival that finds all of them waiting is lost and
counted ("refused"), so the achieved rate falls below the offered one when the bot cannot
keep up. Reported: offered and achieved updates/s, message-to-answer p50/p99 at the
Telegram emulator (a command: the bot's message; a button: the menu edited into the next
screen), the bot's handler p99 from its `koalabot_handler_seconds` histogram (messages and
callback queries; interpolated inside the bucket as Prometheus' histogram_quantile does,
so the share within 50 ms is given too), and the bot's CPU per update over the window
(the poller's share included).

`--profile DIR` runs `py-spy record --gil` (raw, collapsed stacks; py-spy is not in the lock:
`pip install py-spy` first) on the bot during the menus of
each run and leaves the files in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.delivery import (
    Emulators,
    bot,
    emulators,
    machine,
    percentile,
    seed_database,
    seeded_bot,
    spread,
)

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COMMANDS = ("/start", "/balance", "/buy")
HANDLED = ('type="message"', 'type="callback_query"')
PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"  # --instances: PostgreSQL
BENCH_REDIS = "redis://127.0.0.1:6379/13"  # and Redis, as this machine kind provides them
WEBHOOK_SECRET = "bench-webhook-secret"


def cpu_times(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    return sum(cpu_times(pid))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def handled_within(port: int, seconds: str = "0.05") -> tuple[float, float]:
    """(message updates handled within `seconds`, all handled) from the bot's histogram."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    within = total = 0.0
    for line in text.splitlines():
        if not line.startswith('koalabot_handler_seconds_bucket{') or 'type="message"' not in line:
            continue
        value = float(line.rsplit(" ", 1)[1])
        if f'le="{seconds}"' in line:
            within = value
        if 'le="+Inf"' in line:
            total = value
    return within, total


async def all_buckets(ports: list[int]) -> dict[float, float]:
    """handler_buckets summed over the instances."""
    total: dict[float, float] = {}
    for port in ports:
        for le, n in (await handler_buckets(port)).items():
            total[le] = total.get(le, 0.0) + n
    return total


async def handler_buckets(port: int) -> dict[float, float]:
    """Cumulative counts by upper bound of the bot's handler histogram, messages and
    callback queries together."""
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if (line.startswith("koalabot_handler_seconds_bucket{")
                and any(kind in line for kind in HANDLED)):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            le = float("inf") if bound == "+Inf" else float(bound)
            buckets[le] = buckets.get(le, 0.0) + float(line.rsplit(" ", 1)[1])
    return buckets


def histogram_quantile(q: float, before: dict[float, float],
                       after: dict[float, float]) -> tuple[float, float, float]:
    """(quantile q in seconds, share within 50 ms, count) of the observations between two
    scrapes; linear inside a bucket, as Prometheus' histogram_quantile."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return 0.0, 0.0, 0.0
    within = counts[bounds.index(0.05)] / total if 0.05 in bounds else 0.0
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower, within, total
            return lower + (bound - lower) * (rank - below) / max(count - below, 1e-9), \
                within, total
        lower, below = bound, count
    return lower, within, total


async def settled(pid: int, quiet: float = 0.25, timeout: float = 180.0) -> float:
    """Wait for the start-up work to end (the first sight of every seeded activation costs
    a few seconds of CPU), then return the idle CPU rate over 4 s (poll ticks only)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        before = cpu_seconds(pid)
        await asyncio.sleep(4)
        rate = (cpu_seconds(pid) - before) / 4
        if rate < quiet or loop.time() > deadline:
            return rate


@dataclass
class Run:
    load: float
    idle_cpu: float  # CPU seconds per second while only the poller works
    cpu_ms: float  # per update
    p50: float
    p99: float
    throughput: float
    within_50ms: float  # share of updates
    system: float  # share of the CPU time spent in the kernel
    emu_ms: float  # the emulators' process, per update


async def one_run(users: int, activations: int, rounds: int, profile: Path | None,
                  index: int) -> Run:
    load = os.getloadavg()[0]
    port = free_port()
    async with seeded_bot(users, activations, users, 2.0, None,
                          extra_env={"METRICS_PORT": str(port)}) as (emu, process, _):
        pid = process.pid
        idle = await settled(pid)
        spy = None
        if profile is not None:
            spy = await asyncio.create_subprocess_exec(
                *spy_command(pid, profile / f"run{index}.txt"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(1)
        within0, total0 = await handled_within(port)
        user0, sys0 = cpu_times(pid)
        emu0 = cpu_seconds(emu.process.pid)
        answers = await emu.post("/menus", {"rounds": rounds})
        user1, sys1 = cpu_times(pid)
        emu_cpu = cpu_seconds(emu.process.pid) - emu0
        cpu = user1 - user0 + sys1 - sys0
        within1, total1 = await handled_within(port)
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its file and ends
            await spy.wait()
    samples = [s for data in answers.values() for s in data["samples"]]
    wall = sum(data["wall"] for data in answers.values())
    return Run(load, idle, cpu / len(samples) * 1000, percentile(samples, 50) * 1000,
               percentile(samples, 99) * 1000, len(samples) / wall,
               (within1 - within0) / max(1.0, total1 - total0),
               (sys1 - sys0) / max(cpu, 1e-9), emu_cpu / len(samples) * 1000)


@dataclass
class OpenRun:
    load: float
    offered: float  # updates/s offered (arrivals over the window)
    achieved: float  # updates/s answered
    refused: int  # arrivals that found every user waiting
    failed: int  # steps not answered in time or with no button to press
    cpu_ms: float  # bot CPU per answered update, the poller's share included
    emu_ms: float
    p50: float  # message to answer, ms, every step
    p99: float
    p99_commands: float
    p99_buttons: float
    handler_p99: float  # ms, the bot's histogram (interpolated)
    within_50ms: float  # share of handled updates, the bot's histogram
    updates: int
    why: list[str]


def spy_command(pid: int, out: Path) -> list[str]:
    return [shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
            "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil",
            "--nonblocking", "-o", str(out)]


@asynccontextmanager
async def one_bot(users: int, activations: int, module: str,
                  ) -> AsyncIterator[tuple[Emulators, list[int], list[int]]]:
    """koalabot (or `module`) polling, SQLite: (emulators, its pid, its metrics port)."""
    port = free_port()
    async with seeded_bot(users, activations, users, 2.0, None, python_args=("-m", module),
                          extra_env={"METRICS_PORT": str(port)}) as (emu, process, _):
        yield emu, [process.pid], [port]


@asynccontextmanager
async def webhook_bots(users: int, activations: int, instances: int,
                       ) -> AsyncIterator[tuple[Emulators, list[int], list[int]]]:
    """`instances` koalabot processes in webhook mode on a fresh PostgreSQL database, FSM
    in Redis, updates pushed to each in turn (issue 12's scale-out): (emulators, their
    pids, their webhook ports, which serve the metrics too)."""
    from redis.asyncio import Redis
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    redis = Redis.from_url(BENCH_REDIS)
    await redis.flushdb()  # no form or pace left from an earlier run
    await redis.aclose()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            async with emulators() as emu, AsyncExitStack() as stack:
                world = await emu.post("/seed", {"keys": users, "activations": activations,
                                                 "users": users})
                emu.seeded_at, emu.world = time.monotonic(), world
                await seed_database(db_url, world, 2.0)
                ports = [free_port() for _ in range(instances)]
                pids = []
                for i, port in enumerate(ports):
                    folder = Path(tmp) / f"bot{i}"
                    folder.mkdir()
                    webhook = {"WEBHOOK_URL": f"http://127.0.0.1:{port}/webhook",
                               "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(port),
                               "WEBHOOK_SECRET": WEBHOOK_SECRET, "REDIS_URL": BENCH_REDIS}
                    process = await stack.enter_async_context(
                        bot(folder, emu, db_url, 2.0, extra_env=webhook))
                    pids.append(process.pid)
                for port in ports:  # serving: its metrics answer
                    for _ in range(600):
                        try:
                            await handler_buckets(port)
                            break
                        except aiohttp.ClientError:
                            await asyncio.sleep(0.2)
                    else:
                        raise RuntimeError(f"the instance on port {port} did not start")
                await emu.post("/webhooks", {
                    "urls": [f"http://127.0.0.1:{p}/webhook" for p in ports],
                    "secret": WEBHOOK_SECRET})
                yield emu, pids, ports
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def open_run(users: int, activations: int, rate: float, seconds: float,
                   warmup: float, profile: Path | None, index: int,
                   module: str = "bot", instances: int = 1) -> OpenRun:
    load = os.getloadavg()[0]
    started = (webhook_bots(users, activations, instances) if instances > 1
               else one_bot(users, activations, module))
    async with started as (emu, pids, ports):
        for pid in pids:
            await settled(pid)
        if warmup > 0:
            await emu.post("/open", {"rate": rate, "seconds": warmup, "seed": 1000 + index})
        spy = None
        if profile is not None:
            spy = await asyncio.create_subprocess_exec(
                *spy_command(pids[0], profile / f"open{rate:g}-run{index}.txt"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(1)
        buckets0 = await all_buckets(ports)
        cpu0, emu0 = sum(map(cpu_seconds, pids)), cpu_seconds(emu.process.pid)
        out = await emu.post("/open", {"rate": rate, "seconds": seconds, "seed": index})
        cpu = sum(map(cpu_seconds, pids)) - cpu0
        emu_cpu = cpu_seconds(emu.process.pid) - emu0
        buckets1 = await all_buckets(ports)
        if spy is not None:
            spy.send_signal(2)
            await spy.wait()
    by_step: dict[str, list[float]] = out["samples"]
    every = [x for xs in by_step.values() for x in xs]
    commands = [x for step, xs in by_step.items() if step.startswith("/") for x in xs]
    buttons = [x for step, xs in by_step.items() if not step.startswith("/") for x in xs]
    answered = max(len(every), 1)
    handler_p99, within, _ = histogram_quantile(0.99, buckets0, buckets1)
    return OpenRun(
        load, out["offered"] / out["wall"], len(every) / out["wall"], out["refused"],
        sum(out["failed"].values()), cpu / answered * 1000, emu_cpu / answered * 1000,
        percentile(every, 50) * 1000 if every else 0.0,
        percentile(every, 99) * 1000 if every else 0.0,
        percentile(commands, 99) * 1000 if commands else 0.0,
        percentile(buttons, 99) * 1000 if buttons else 0.0,
        handler_p99 * 1000, within, len(every), out["why"])


def open_table(users: int, activations: int, seconds: float,
               runs: dict[float, list[OpenRun]]) -> list[str]:
    lines = [
        "| offered updates/s | users | activations | s | runs | load avg at start "
        "| achieved updates/s | refused / failed | bot CPU ms/update | emulators CPU ms/update "
        "| p50 ms | p99 ms | p99 commands / buttons ms | handler p99 ms | handled ≤ 50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rate, done in runs.items():
        lines.append(
            f"| {rate:g} | {users} | {activations} | {seconds:g} | {len(done)} | "
            f"{spread([r.load for r in done], '{:.1f}')} | "
            f"{spread([r.achieved for r in done], '{:.0f}')} | "
            f"{sum(r.refused for r in done)} / {sum(r.failed for r in done)} | "
            f"{spread([r.cpu_ms for r in done])} | "
            f"{spread([r.emu_ms for r in done])} | "
            f"{spread([r.p50 for r in done], '{:.0f}')} | "
            f"{spread([r.p99 for r in done], '{:.0f}')} | "
            f"{spread([r.p99_commands for r in done], '{:.0f}')} / "
            f"{spread([r.p99_buttons for r in done], '{:.0f}')} | "
            f"{spread([r.handler_p99 for r in done], '{:.0f}')} | "
            f"{spread([r.within_50ms * 100 for r in done], '{:.1f}')} % |")
    return lines


async def measure_open(users: int, activations: int, rates: list[float], seconds: float,
                       warmup: float, runs: int, profile: Path | None = None,
                       module: str = "bot", instances: int = 1) -> list[str]:
    where = machine()
    done: dict[float, list[OpenRun]] = {rate: [] for rate in rates}
    for i in range(runs):  # the rates in turn, so load changes spread over all of them
        for rate in rates:
            done[rate].append(await open_run(users, activations, rate, seconds, warmup,
                                             profile, i, module, instances))
    lines = [f"Machine: {where}.", "", *open_table(users, activations, seconds, done)]
    why = [w for runs_ in done.values() for r in runs_ for w in r.why]
    if why:
        lines += ["", "Failed steps (first few): " + "; ".join(why[:5])]
    print("\n".join(lines))
    return lines


def table(users: int, activations: int, rounds: int, runs: list[Run]) -> list[str]:
    n = users * rounds * len(COMMANDS)
    return [
        "| users | activations | updates/run | runs | load avg at start | bot CPU ms/update "
        "| of it in the kernel | emulators CPU ms/update | bot idle CPU | p50 ms | p99 ms "
        "| updates/s | handled ≤ 50 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {users} | {activations} | {n} | {len(runs)} | "
        f"{spread([r.load for r in runs], '{:.1f}')} | "
        f"{spread([r.cpu_ms for r in runs])} | "
        f"{spread([r.system * 100 for r in runs], '{:.0f}')} % | "
        f"{spread([r.emu_ms for r in runs])} | "
        f"{spread([r.idle_cpu * 100 for r in runs], '{:.0f}')} % | "
        f"{spread([r.p50 for r in runs], '{:.0f}')} | "
        f"{spread([r.p99 for r in runs], '{:.0f}')} | "
        f"{spread([r.throughput for r in runs], '{:.0f}')} | "
        f"{spread([r.within_50ms * 100 for r in runs], '{:.1f}')} % |",
    ]


async def measure(users: int, activations: int, rounds: int, runs: int,
                  profile: Path | None = None) -> list[str]:
    where = machine()
    done = [await one_run(users, activations, rounds, profile, i) for i in range(runs)]
    lines = [f"Machine: {where}.", "", *table(users, activations, rounds, done)]
    print("\n".join(lines))
    return lines


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--activations", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--rate", type=float, nargs="+", default=None,
                        help="open loop: updates/s offered (one or more)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--bot", default="bot",
                        help="open loop: the module to run instead of koalabot "
                             "(bench.floor_bot: the framework's floor)")
    parser.add_argument("--instances", type=int, default=1,
                        help="open loop: koalabot processes; more than one runs them in "
                             "webhook mode on PostgreSQL and Redis (127.0.0.1)")
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.rate:
        return asyncio.run(measure_open(args.users, args.activations, args.rate, args.seconds,
                                        args.warmup, args.runs, args.profile, args.bot,
                                        args.instances))
    return asyncio.run(measure(args.users, args.activations, args.rounds, args.runs,
                               args.profile))


if __name__ == "__main__":
    main()
