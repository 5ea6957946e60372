"""What one poll tick costs with many running activations.

Builds a world (emulated provider and Telegram, the real bot), buys N numbers over M
accounts, stops the scheduled job and drives ticks by hand, measuring:
  - a quiet tick (nothing new): wall time and provider requests;
  - a busy tick: K codes arrive at once; time until every code message is in its chat.
Run:

    python -m bench.poll_tick [--accounts 50] [--per-account 20] [--codes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

from bot.poller import Poller
from bot.sandbox.playground import world
from storage.repo import AccountRepo


async def measure(accounts: int, per_account: int, codes: int) -> None:
    async with world(poll_interval=60.0, balance=1e9) as w:
        app, provider = w.app, w.provider
        await app.poller.stop()  # ticks are driven by hand below
        provider.set_offer("wa", 22, 10.0, accounts * per_account + 10)
        user = w.tg.add_user(first_name="Bench")
        chat = w.tg.private_chat(user)
        bought = []
        for i in range(accounts):
            key = f"benchKey{i:04d}0123456789abcdef"
            provider.add_account(key, balance=1e9)
            async with app.db() as session:
                account = await AccountRepo(session, app.keybox).set_key(-(i + 1), key, user.id)
            for _ in range(per_account):
                a = await app.manager.purchase(account=account, chat_id=chat.id,
                                               buyer_id=user.id, service="wa", country=22,
                                               max_price=None)
                bought.append(await app.manager.send_card(a))
        total = len(bought)
        poller = Poller(manager=app.manager, interval=2.0)

        quiet = []
        for _ in range(10):
            before = len(provider.requests)
            started = time.perf_counter()
            await poller.tick()
            await asyncio.gather(*poller._running_tasks())
            quiet.append(time.perf_counter() - started)
            requests = len(provider.requests) - before
        print(f"{total} running activations over {accounts} accounts")
        print(f"quiet tick: median {statistics.median(quiet) * 1000:.1f} ms, "
              f"max {max(quiet) * 1000:.1f} ms, {requests} provider requests per tick")

        for n, a in enumerate(bought[:codes]):
            provider.deliver_sms(a.provider_id, f"{n:06d}")
        started = time.perf_counter()
        await poller.tick()
        await asyncio.gather(*poller._running_tasks())
        delivered = sum(1 for m in chat.bot_messages if m.text.startswith("🔑"))
        busy = time.perf_counter() - started
        print(f"busy tick: {codes} codes arrive at once -> {delivered} code messages sent, "
              f"cards edited, in {busy * 1000:.0f} ms")
        await poller.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole process (bot + both emulators): {rss:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--per-account", type=int, default=20)
    parser.add_argument("--codes", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(measure(args.accounts, args.per_account, args.codes))


if __name__ == "__main__":
    main()
