"""Where the bot process's memory goes: RSS and tracemalloc snapshots of the real bot.

    python -m bench.heap --keys 50 --activations 1000 [--users N] [--hello] \\
        [--trace FRAMES --out FILE] [--wait S]
    python -m bench.heap --diff SMALL.snap BIG.snap [--group traceback|lineno] [--top 30]

The bot is `python -m bot` on a database seeded by `bench.delivery` (keys, running numbers
over the first keys, users), measured after its first poll tick and `--wait` more seconds
(and, with `--hello`, after every user sent /start). Without `--trace` only RSS is read
(from /proc: the number to compare). With `--trace N` the bot runs under a wrapper that
starts tracemalloc (N frames) once the bot is imported and writes a snapshot on SIGUSR1;
RSS is then inflated by tracemalloc itself, so only the snapshot counts. `--diff` prints
the allocations that grew from one snapshot to the other, largest first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import tracemalloc
from pathlib import Path

from bench.delivery import rss_mib, seeded_bot

# Runs the bot like `python -m bot`, tracing allocations made after the bot's modules are
# imported (tracing the imports too takes minutes on a loaded machine; what is imported
# later, lazily, is traced).
TRACED = """
import ctypes, gc, os, signal, sys, tracemalloc
import bot.app
frames = int(os.environ.get("BENCH_HEAP_FRAMES") or 0)
if frames:
    tracemalloc.start(frames)
if os.environ.get("BENCH_HEAP_GARBAGE"):
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the cyclic collector frees is kept, to count

def dump(signum, frame):
    gc.collect()
    path = os.environ["BENCH_HEAP_OUT"]
    if os.environ.get("BENCH_HEAP_GARBAGE"):
        import collections
        counts = collections.Counter(type(o).__name__ for o in gc.garbage)
        with open(path + ".garbage", "w") as out:
            out.write(f"{len(gc.garbage)} objects freed by the cyclic collector\\n")
            for name, n in counts.most_common(60):
                out.write(f"{n:9d} {name}\\n")
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(path + ".part")
    else:  # --garbage alone: an empty file marks the counts written
        open(path + ".part", "w").close()
    current, peak = tracemalloc.get_traced_memory()
    with open(path + ".txt", "w") as out:
        out.write(f"traced now {current / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB")
    _census(path)
    os.replace(path + ".part", path)

def _census(path):
    # Objects by type (what stays alive) and pymalloc's arenas (live heap vs what it holds).
    import collections
    counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
    with open(path + ".types", "w") as out:
        for name, n in counts.most_common(40):
            out.write(f"{n:9d} {name}\\n")
    saved = os.dup(2)
    with open(path + ".pymalloc", "w") as out:
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)

def trim(signum, frame):
    import time
    gc.collect()
    started = time.perf_counter()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    _census(os.environ["BENCH_HEAP_OUT"] + ".trim")
    with open(os.environ["BENCH_HEAP_OUT"] + ".trim", "w") as out:
        out.write(f"malloc_trim(0) took {(time.perf_counter() - started) * 1000:.1f} ms")

def watch_peak(path):
    # The heap's high-water mark sets RSS: keep a snapshot of the largest heap seen.
    import threading, time
    def watch():
        best = 0
        while True:
            time.sleep(0.05)
            current, _ = tracemalloc.get_traced_memory()
            if current > best + 2**20:
                best = current
                tracemalloc.take_snapshot().dump(path + ".part")
                os.replace(path + ".part", path)
    threading.Thread(target=watch, daemon=True).start()

if frames and os.environ.get("BENCH_HEAP_PEAK"):
    watch_peak(os.environ["BENCH_HEAP_OUT"] + ".peak")
signal.signal(signal.SIGUSR1, dump)
signal.signal(signal.SIGUSR2, trim)
import runpy
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


async def measure(args: argparse.Namespace) -> None:
    python_args = (("-c", TRACED) if args.trace or args.trim or args.garbage
                   else ("-m", "bot"))
    users = max(args.users, args.keys)
    async with seeded_bot(args.keys, args.activations, users, args.poll_interval, None,
                          python_args=python_args) as (emu, process, _):
        print(f"after start: {rss_mib(process.pid)[0]:.0f} MiB", flush=True)
        if args.trace:  # OUT.start and OUT: what grows while the bot runs
            await snapshot(process, Path(args.out + ".start"))
        if args.hello:
            hello = await emu.post("/hello", {}, timeout=3600)
            print(f"every user sent /start in {hello['wall']:.1f} s", flush=True)
        waited = 0.0
        while waited < args.wait:
            step = min(args.wait - waited, args.sample or args.wait)
            await asyncio.sleep(step)
            waited += step
            if args.sample:
                print(f"  {waited:4.0f} s: {rss_mib(process.pid)[0]:.0f} MiB", flush=True)
        now, peak = rss_mib(process.pid)
        print(f"measured: {now:.0f} MiB (peak {peak:.0f} MiB)", flush=True)
        if args.trim:
            process.send_signal(signal.SIGUSR2)
            await asyncio.sleep(2)
            print(f"after gc.collect() and malloc_trim(0): {rss_mib(process.pid)[0]:.0f} MiB "
                  f"({_note(args.out + '.tmp.trim')})", flush=True)
        if args.trace or args.garbage:
            await snapshot(process, Path(args.out))


async def snapshot(process: asyncio.subprocess.Process, out: Path) -> None:
    target = _ask_snapshot(process)
    while True:
        traced = _snapshot_written(target, out)
        if traced is not None:
            break
        await asyncio.sleep(0.5)
    print(f"snapshot: {out}; {traced}", flush=True)


def _note(path: str) -> str:
    return Path(path).read_text() if Path(path).exists() else "no note"


def _ask_snapshot(process: asyncio.subprocess.Process) -> Path:
    target = Path(os.environ["BENCH_HEAP_TARGET"])
    target.unlink(missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    return target


def _snapshot_written(target: Path, out: Path) -> str | None:
    """The wrapper's note on the traced memory once the snapshot is written (at `out`)."""
    if not target.exists():
        return None
    target.replace(out)
    for extra in (".types", ".pymalloc", ".garbage"):
        if Path(str(target) + extra).exists():
            Path(str(target) + extra).replace(str(out) + extra)
    return Path(str(target) + ".txt").read_text()


def diff(small: str, big: str, group: str, top: int) -> None:
    before = tracemalloc.Snapshot.load(small)
    after = tracemalloc.Snapshot.load(big)
    stats = after.compare_to(before, group)
    total = sum(s.size_diff for s in stats)
    print(f"total growth: {total / 2**20:.1f} MiB over {len(stats)} places")
    for stat in stats[:top]:
        print(f"\n{stat.size_diff / 2**10:+.0f} KiB, {stat.count_diff:+d} blocks")
        for line in stat.traceback.format(limit=-12 if group == "traceback" else 1):
            print("  " + line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--activations", type=int, default=0)
    parser.add_argument("--users", type=int, default=0, help="default: --keys")
    parser.add_argument("--hello", action="store_true", help="every user sends /start")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--wait", type=float, default=10.0,
                        help="seconds of running before measuring")
    parser.add_argument("--sample", type=float, default=0.0, metavar="S",
                        help="print RSS every S seconds while waiting")
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES")
    parser.add_argument("--out", default="heap.snap")
    parser.add_argument("--peak", action="store_true",
                        help="with --trace, also keep a snapshot of the largest heap seen "
                        "(OUT.peak)")
    parser.add_argument("--trim", action="store_true",
                        help="then gc.collect() and malloc_trim(0) in the bot, RSS again")
    parser.add_argument("--garbage", action="store_true",
                        help="count what the cyclic collector frees (OUT.garbage; the "
                        "garbage is kept, so RSS means nothing)")
    parser.add_argument("--diff", nargs=2, metavar=("SMALL", "BIG"))
    parser.add_argument("--group", choices=["traceback", "lineno", "filename"],
                        default="traceback")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    if args.diff:
        small, big = args.diff
        diff(small, big, args.group, args.top)
        return
    # For the wrapper (TRACED) in the bot's process.
    os.environ["BENCH_HEAP_FRAMES"] = str(args.trace)
    os.environ["BENCH_HEAP_OUT"] = os.environ["BENCH_HEAP_TARGET"] = os.path.abspath(
        args.out + ".tmp")
    os.environ["BENCH_HEAP_PEAK"] = "1" if args.peak else ""
    os.environ["BENCH_HEAP_GARBAGE"] = "1" if args.garbage else ""
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
