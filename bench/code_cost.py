"""What recording and delivering one code costs the database.

    python -m bench.code_cost [--codes 50]

A world in this process (emulated provider and Telegram, the real bot, SQLite): --codes
users, each with one running number and its card in a private chat of their own. The
scheduled poller is stopped and ticks are driven by hand: a quiet tick first (nothing
new), then every SMS arrives at once and one tick finds them all; the bench waits until
every code message is in its chat and Telegram has been quiet for a second (the cards
edited). Counted through SQLAlchemy events: SQL statements (before_cursor_execute),
connections checked out of the pool (one per session that touched the database) and
commits. Per code = (busy tick - quiet tick) / codes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.app import App
from bot.poller import Poller
from bot.sandbox.playground import world
from storage.repo import AccountRepo

KEY = "benchKey000000123456789abcdef"


@contextmanager
def counting(app: App) -> Iterator[dict[str, int]]:
    seen = {"statements": 0, "sessions": 0, "commits": 0}
    engine = app.engine.sync_engine

    def statement(*args: Any) -> None:
        seen["statements"] += 1

    def checkout(*args: Any) -> None:
        seen["sessions"] += 1

    def commit(*args: Any) -> None:
        seen["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)
        event.remove(engine, "commit", commit)


def messages(tg_requests: list[Any]) -> int:
    return sum(1 for r in tg_requests if r.method in ("sendMessage", "editMessageText"))


async def quiet(app: App, tg_requests: list[Any], seconds: float = 1.0) -> None:
    """Until the bot sent or edited nothing for `seconds` (the cards come after the
    codes)."""
    while True:
        count = messages(tg_requests)
        await asyncio.sleep(seconds)
        if messages(tg_requests) == count:
            return


async def measure(codes: int) -> dict[str, float]:
    async with world(poll_interval=60.0, balance=1e9) as w:
        app, provider, tg = w.app, w.provider, w.tg
        await app.poller.stop()  # ticks are driven by hand below
        provider.set_offer("wa", 22, 10.0, codes + 10)
        provider.add_account(KEY, balance=1e9)
        owner = tg.add_user(first_name="Owner")
        async with app.db() as session:
            account = await AccountRepo(session, app.keybox).set_key(owner.id, KEY, owner.id)
        chats, bought = [], []
        for i in range(codes):
            user = tg.add_user(first_name=f"U{i}")
            chat = tg.private_chat(user)
            a = await app.manager.purchase(account=account, chat_id=chat.id, buyer_id=user.id,
                                           service="wa", country=22, max_price=None)
            bought.append(await app.manager.send_card(a))
            chats.append(chat)
        poller = Poller(manager=app.manager, interval=2.0, spread=0)
        await poller.tick()  # first tick: start-up work, not counted
        await asyncio.gather(*poller._running_tasks())
        await quiet(app, tg.requests)

        with counting(app) as base:
            await poller.tick()
            await asyncio.gather(*poller._running_tasks())
        for n, a in enumerate(bought):
            provider.deliver_sms(a.provider_id, f"{n:06d}")
        started = time.perf_counter()
        with counting(app) as busy:
            await poller.tick()
            await asyncio.gather(*poller._running_tasks())
            deadline = time.monotonic() + 120
            while sum(1 for c in chats for m in c.bot_messages if m.text.startswith("🔑")) \
                    < codes:
                if time.monotonic() > deadline:
                    raise SystemExit("codes not delivered within 120 s")
                await asyncio.sleep(0.05)
            await quiet(app, tg.requests)
        wall = time.perf_counter() - started - 1.0
        await poller.stop()
    out = {name: (busy[name] - base[name]) / codes for name in busy}
    out["wall"] = wall
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codes", type=int, default=50)
    args = parser.parse_args()
    out = asyncio.run(measure(args.codes))
    print(f"{args.codes} codes at once, one per chat: per code "
          f"{out['statements']:.1f} SQL statements, {out['sessions']:.1f} sessions "
          f"(pool checkouts), {out['commits']:.1f} commits; all delivered and cards "
          f"edited in {out['wall']:.1f} s")


if __name__ == "__main__":
    main()
