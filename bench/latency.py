"""How fast the bot answers, measured end to end over HTTP on 127.0.0.1.

A user's message goes into the Telegram emulator, the bot long-polls it, handles it and
answers; the time is taken from the message to the answer. Run:

    python -m bench.latency [--users 50] [--rounds 5]

Results are written down in bench/RESULTS.md by hand, with the machine they came from.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

from bot.sandbox.playground import DEMO_KEY, world


async def measure(users: int, rounds: int) -> None:
    async with world(poll_interval=2.0) as w:
        chats = [w.tg.private_chat(w.tg.add_user(first_name=f"U{i}")) for i in range(users)]
        # Every user sets the key once (not measured: it waits on the provider).
        for chat in chats:
            await chat.send(f"/key {DEMO_KEY}")
        await asyncio.gather(*(c.wait_for("100.00", timeout=30) for c in chats))

        async def one(chat_index: int, command: str, expect: str) -> float:
            chat = chats[chat_index]
            started = time.perf_counter()
            await chat.send(command)
            await chat.wait_for(expect, timeout=30)
            return time.perf_counter() - started

        for command, expect in (("/start", "KoalaSMS"), ("/balance", "100.00"),
                                ("/buy", "")):
            samples: list[float] = []
            wall = time.perf_counter()
            for _ in range(rounds):
                samples += await asyncio.gather(*(one(i, command, expect)
                                                  for i in range(users)))
            wall = time.perf_counter() - wall
            samples.sort()
            p50 = statistics.median(samples) * 1000
            p95 = samples[int(len(samples) * 0.95) - 1] * 1000
            print(f"{command:9} users={users:4} n={len(samples):5} p50={p50:7.1f} ms "
                  f"p95={p95:7.1f} ms  throughput={len(samples) / wall:7.1f} msg/s")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole process (bot + both emulators): {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(measure(args.users, args.rounds))


if __name__ == "__main__":
    main()
