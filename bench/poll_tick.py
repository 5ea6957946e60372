"""What one poll tick costs with many running activations.

Builds a world (emulated provider and Telegram, the real bot), buys N numbers over M
accounts, stops the scheduled job and drives ticks by hand, measuring:
  - a quiet tick (nothing new): wall time and provider requests;
  - a busy tick: K codes arrive at once; time until every code message is in its chat.
Run:

    python -m bench.poll_tick [--accounts 50] [--per-account 20] [--codes 100]

With --keys N it measures the cost per key instead: N accounts with one running number
each (rows written directly, numbers bought on the emulator's side), the CPU time
(time.process_time: the machine is shared, wall time says little) and the SQL statements
of a quiet tick, once with every number just bought (every account asked each tick) and
once with every number old (the adaptive interval: averaged over slow_every ticks). The
CPU time is the whole process: the emulated provider serving the requests included.

With --lifetime N it reports provider calls per activation-minute: N keys, one number
each, ticked through the numbers' whole life (POLL_INTERVAL 2 s, the clock moved 2 s a
tick, no SMS: the worst case, every number polled until its end).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from bot.app import App
from bot.koala.models import ActiveActivation
from bot.poller import Poller
from bot.sandbox.playground import World, world
from storage.models import Account, Activation
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
        poller = Poller(manager=app.manager, interval=2.0, spread=0)

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


@contextmanager
def statements(app: App) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)


async def seed_keys(w: World, keys: int) -> list[Activation]:
    """`keys` accounts with one running number each, written directly (buying them
    through the bot one by one takes minutes at 5,000)."""
    app, provider = w.app, w.provider
    provider.set_offer("wa", 22, 10.0, keys + 10)
    now = app.manager.clock()
    user = w.tg.add_user(first_name="Bench")
    chat_id = w.tg.private_chat(user).id
    accounts = []
    for i in range(keys):
        key = f"benchKey{i:05d}0123456789abcdef"
        provider.add_account(key, balance=1e9)
        accounts.append((key, Account(owner_id=-(i + 1), key_encrypted=app.keybox.encrypt(key),
                                      key_hint="bench", linked_by=1)))
    async with app.db() as session:
        session.add_all([account for _, account in accounts])
        await session.commit()
        acts = []
        for key, account in accounts:
            bought = provider.buy_in_panel(key, "wa", 22)
            assert account.id is not None
            acts.append(Activation(
                provider_id=bought.id, account_id=account.id, chat_id=chat_id, buyer_id=user.id,
                service="wa", country=22, phone=bought.phone, cost=bought.cost,
                can_get_another_sms=bought.another_sms,
                cancel_at=now + timedelta(seconds=provider.cancel_delay),
                ends_at=now + timedelta(seconds=provider.lifetime)))
        session.add_all(acts)
        await session.commit()
    return acts


async def settle(poller: Poller) -> None:
    """Wait for everything a tick started, and what that started in turn."""
    while tasks := poller._running_tasks():
        await asyncio.gather(*tasks)


async def cpu_per_tick(w: World, poller: Poller, ticks: int) -> tuple[float, float, float]:
    """Mean CPU seconds, SQL statements and getActiveActivations calls per tick."""
    before = w.provider.calls("getActiveActivations")
    with statements(w.app) as seen:
        cpu = time.process_time()
        for _ in range(ticks):
            await poller.tick()
            await settle(poller)
        cpu = time.process_time() - cpu
    calls = w.provider.calls("getActiveActivations") - before
    return cpu / ticks, len(seen) / ticks, calls / ticks


def answer_in_process(w: World, acts: list[Activation]) -> None:
    """The poller's getActiveActivations answered without HTTP (--no-http): what is left
    is the bot's own cost per key, without the client's and the emulator's."""
    keys = {a.provider_id: k for k, a in zip(
        (f"benchKey{i:05d}0123456789abcdef" for i in range(len(acts))), acts, strict=True)}
    rows = {key: [ActiveActivation(
        activation_id=a.provider_id, phone=a.phone, status="4", service=a.service,
        country_code="22", codes=(), text=None, cost=a.cost, currency=643,
        can_get_another_sms=a.can_get_another_sms)] for a in acts
        for key in (keys[a.provider_id],)}

    async def list_active(key: str) -> list[ActiveActivation]:
        w.provider._requests.append(("getActiveActivations", {}))  # counted as if sent
        return rows[key]

    w.app.manager.list_active = list_active  # type: ignore[method-assign]


async def measure_keys(keys: int, *, http: bool = True) -> None:
    async with world(poll_interval=60.0, balance=1e9) as w:
        app = w.app
        await app.poller.stop()
        acts = await seed_keys(w, keys)
        if not http:
            answer_in_process(w, acts)
        poller = Poller(manager=app.manager, interval=2.0, spread=0)
        every = getattr(poller, "slow_every", 1)
        await poller.tick()  # the first tick: keys decrypted, currencies learnt
        await settle(poller)
        cpu, queries, calls = await cpu_per_tick(w, poller, every)
        print(f"{'' if http else '(no HTTP) '}"
              f"{keys} keys, one running number each, quiet tick, numbers just bought: "
              f"CPU {cpu * 1000:.0f} ms/tick, {queries:.1f} SQL statements/tick, "
              f"{calls:.0f} getActiveActivations/tick")
        offset = timedelta(seconds=300)  # every number is old now (the provider's too)
        real_clock = app.manager.clock
        app.manager.clock = lambda: real_clock() + offset
        w.provider.advance(300)
        cpu, queries, calls = await cpu_per_tick(w, poller, 2 * every)
        print(f"{'' if http else '(no HTTP) '}{keys} keys, numbers 5 minutes old: "
              f"CPU {cpu * 1000:.0f} ms/tick on average "
              f"over {2 * every} ticks, {queries:.1f} SQL statements/tick, "
              f"{calls:.0f} getActiveActivations/tick")
        await poller.stop()


async def measure_lifetime(keys: int) -> None:
    interval = 2.0
    async with world(poll_interval=60.0, balance=1e9) as w:
        app = w.app
        await app.poller.stop()
        await seed_keys(w, keys)
        poller = Poller(manager=app.manager, interval=interval, spread=0)
        real_clock = app.manager.clock
        offset = timedelta(0)
        app.manager.clock = lambda: real_clock() + offset
        before = w.provider.calls("getActiveActivations")
        ticks = int(w.provider.lifetime / interval)
        for _ in range(ticks):
            await poller.tick()
            await settle(poller)
            offset += timedelta(seconds=interval)
            w.provider.advance(interval)
        calls = w.provider.calls("getActiveActivations") - before
        minutes = keys * ticks * interval / 60
        print(f"{keys} numbers through their {w.provider.lifetime / 60:.0f}-minute life, "
              f"no SMS, POLL_INTERVAL={interval:g}: {calls} getActiveActivations, "
              f"{calls / minutes:.1f} calls per activation-minute "
              f"(every tick: {60 / interval:.0f})")
        await poller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--per-account", type=int, default=20)
    parser.add_argument("--codes", type=int, default=100)
    parser.add_argument("--keys", type=int, default=0, help="cost per key (see above)")
    parser.add_argument("--no-http", action="store_true",
                        help="--keys: the provider's list answered in-process")
    parser.add_argument("--lifetime", type=int, default=0,
                        help="calls per activation-minute over this many numbers' life")
    args = parser.parse_args()
    if args.keys:
        asyncio.run(measure_keys(args.keys, http=not args.no_http))
    elif args.lifetime:
        asyncio.run(measure_lifetime(args.lifetime))
    else:
        asyncio.run(measure(args.accounts, args.per_account, args.codes))


if __name__ == "__main__":
    main()
