"""What keeping the time left on cards current costs in Telegram edits (bot/card_refresh.py).

Simulates N running activations bought at a steady rate, a poll tick every INTERVAL
seconds, and counts the edits the schedule asks for (no network: the schedule is what
is measured). Also times one `due()` pass over the N rows, which every tick pays.
Run:

    python -m bench.card_refresh [--activations 1000] [--interval 3]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.card_refresh import due
from storage.models import Activation
from storage.states import ActivationState

LIFETIME = 1200.0
CANCEL_DELAY = 120.0


def world(count: int, start: datetime) -> list[Activation]:
    """`count` activations alive at once: bought one after another over a lifetime."""
    step = LIFETIME / count
    rows = []
    for i in range(count):
        bought = start + timedelta(seconds=i * step)
        rows.append(Activation(
            id=i + 1, provider_id=i + 1, account_id=1, chat_id=1000 + i % 500, buyer_id=1,
            card_message_id=i + 1, service="tg", phone="79000000000", bought_at=bought,
            card_refreshed_at=bought, cancel_at=bought + timedelta(seconds=CANCEL_DELAY),
            ends_at=bought + timedelta(seconds=LIFETIME), state=ActivationState.WAITING))
    return rows


def run(count: int, interval: float) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = world(count, start)
    now = start + timedelta(seconds=LIFETIME)  # steady state: every row alive
    began = time.perf_counter()
    due(rows, now)
    pass_ms = (time.perf_counter() - began) * 1000
    per_tick: Counter[int] = Counter()
    edits = 0
    ticks = int(LIFETIME / interval)
    # A first lifetime warms up (every row's thresholds in their steady rhythm); the
    # second one is measured.
    for tick in range(2 * ticks):
        now = start + timedelta(seconds=LIFETIME + tick * interval)
        for a in due(rows, now):
            a.card_refreshed_at = now
            if tick >= ticks:
                per_tick[tick] += 1
                edits += 1
        for a in rows:  # ended ones are replaced by a fresh purchase
            if a.ends_at <= now - timedelta(seconds=5):
                a.bought_at = a.card_refreshed_at = now
                a.cancel_at = now + timedelta(seconds=CANCEL_DELAY)
                a.ends_at = now + timedelta(seconds=LIFETIME)
    seconds = ticks * interval
    print(f"{count} running activations, a tick every {interval:g}s, over {seconds:.0f}s:")
    print(f"  edits: {edits} ({edits / seconds:.1f}/s on average, "
          f"{max(per_tick.values(), default=0) / interval:.1f}/s in the busiest tick)")
    print(f"  edits per activation lifetime: {edits / count:.1f}")
    print(f"  one due() pass over {count} rows: {pass_ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activations", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=3.0)
    args = parser.parse_args()
    run(args.activations, args.interval)


if __name__ == "__main__":
    main()
