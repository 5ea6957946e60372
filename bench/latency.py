"""Menu answers of the real bot: CPU per update, message-to-answer time, throughput.

    python -m bench.latency [--users 50] [--activations 1000] [--rounds 3] [--runs 3] \\
        [--profile DIR]

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
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.delivery import machine, percentile, seeded_bot, spread

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
COMMANDS = ("/start", "/balance", "/buy")


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
    os.environ["METRICS_PORT"] = str(port)  # the bot inherits the driver's environment
    try:
        async with seeded_bot(users, activations, users, 2.0, None) as (emu, process, _):
            pid = process.pid
            idle = await settled(pid)
            spy = None
            if profile is not None:
                spy = await asyncio.create_subprocess_exec(
                    shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy")),
                    "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil",
                    "--nonblocking", "-o", str(profile / f"run{index}.txt"),
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
    finally:
        del os.environ["METRICS_PORT"]
    samples = [s for data in answers.values() for s in data["samples"]]
    wall = sum(data["wall"] for data in answers.values())
    return Run(load, idle, cpu / len(samples) * 1000, percentile(samples, 50) * 1000,
               percentile(samples, 99) * 1000, len(samples) / wall,
               (within1 - within0) / max(1.0, total1 - total0),
               (sys1 - sys0) / max(cpu, 1e-9), emu_cpu / len(samples) * 1000)


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
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    return asyncio.run(measure(args.users, args.activations, args.rounds, args.runs,
                               args.profile))


if __name__ == "__main__":
    main()
