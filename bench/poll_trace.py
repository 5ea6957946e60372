"""`python -m bot` with its poller traced, for `bench.delivery --trace`.

    python -m bench.poll_trace TRACE.jsonl [bot arguments]

Runs the bot exactly as `python -m bot` does, after wrapping a few poller methods so each
writes one JSON line per event to TRACE.jsonl (monotonic time `t`, the process's CPU time
`cpu`, both in seconds):

- ``tick``: a tick started (its number), ``tick_end``: it returned (rounds it started,
  accounts skipped because their previous round was still out, paused or not due);
- ``round`` / ``round_end``: one account's poll round (its account, the tick, seconds);
- ``slot``: a request waited this long for a shared request slot (only waits > 1 ms);
- ``skipped`` / ``missed``: APScheduler did not run a tick (the previous one was still
  running, or it ran late past its grace time).

`summarise` turns the file into the figures `bench.delivery` prints. Not used by the bot.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

_out: TextIO | None = None


def emit(event: str, **fields: Any) -> None:
    if _out is not None:
        _out.write(json.dumps({"ev": event, "t": round(time.monotonic(), 4),
                               "cpu": round(time.process_time(), 4), **fields}) + "\n")


class _SchedulerLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "maximum number of running instances" in text:
            emit("skipped")
        elif "was missed by" in text:
            emit("missed", text=text.rsplit("by ", 1)[-1])


def install(path: Path) -> None:
    """Wrap the poller; every event goes to `path`."""
    global _out
    from bot import poller as poller_module
    from bot.poll_accounts import AccountPolling, RequestSlots

    _out = path.open("w", buffering=1)
    Poller = poller_module.Poller
    init, tick, poll_account = Poller.__init__, Poller._tick, AccountPolling._poll_account
    poll_due = Poller._poll_due

    def traced_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._trace_counts = Counter()

    acquire = RequestSlots.acquire

    async def traced_acquire(self: RequestSlots) -> None:
        if not self.locked():
            await acquire(self)
            return
        started = time.monotonic()
        await acquire(self)
        emit("slot", wait=round(time.monotonic() - started, 4))

    RequestSlots.acquire = traced_acquire  # type: ignore[method-assign]

    async def traced_tick(self: Any) -> None:
        self._trace_counts = Counter()
        emit("tick", n=self.ticks + 1)
        try:
            await tick(self)
        finally:
            slots = self._request_slots
            emit("tick_end", n=self.ticks, slots=getattr(slots, "limit", None),
                 per_request=round(getattr(slots, "per_request", 0.0), 4),
                 **self._trace_counts)

    def traced_due(self: Any, account_id: int, acts: list[Any]) -> bool:
        due = poll_due(self, account_id, acts)
        self._trace_counts["due" if due else "not_due"] += 1
        return due

    async def traced_round(self: Any, account_id: int, *args: Any) -> None:
        tick_n = self.ticks
        started = time.monotonic()
        emit("round", account=account_id, tick=tick_n)
        try:
            await poll_account(self, account_id, *args)
        finally:
            emit("round_end", account=account_id, tick=tick_n,
                 took=round(time.monotonic() - started, 4))

    work, apply_ = Poller._work, Poller._apply
    from bot.outbox import Outbox
    send_code = Outbox._send_code

    def code_of(seen: Any) -> str | None:
        status = getattr(seen, "status", None)
        codes = getattr(seen, "codes", None) or ()
        return (codes[-1] if codes else None) or (status.code if status is not None else None)

    async def traced_work(self: Any, activation_id: int, seen: Any, *rest: Any) -> None:
        code = code_of(seen)
        if code is None:
            return await work(self, activation_id, seen, *rest)
        emit("work", code=code)  # the poller saw the SMS; waits for a work slot
        return await work(self, activation_id, seen, *rest)

    async def traced_apply(self: Any, activation_id: int, seen: Any) -> None:
        code = code_of(seen)
        if code is not None:
            emit("apply", code=code)
        await apply_(self, activation_id, seen)
        if code is not None:
            emit("applied", code=code)  # recorded and queued for its chat

    async def traced_send(self: Any, rec: Any, *args: Any) -> None:
        emit("send", code=rec.code.code)
        await send_code(self, rec, *args)
        emit("sent", code=rec.code.code)

    Poller._work = traced_work  # type: ignore[method-assign,assignment]
    Poller._apply = traced_apply  # type: ignore[method-assign]
    Outbox._send_code = traced_send  # type: ignore[method-assign,assignment]
    Poller.__init__ = traced_init  # type: ignore[method-assign]
    Poller._tick = traced_tick  # type: ignore[method-assign]
    Poller._poll_due = traced_due  # type: ignore[method-assign]
    Poller._poll_account = traced_round  # type: ignore[method-assign,assignment]
    handler = _SchedulerLog()
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(name).addHandler(handler)


def summarise(path: Path, since: float | None = None) -> dict[str, Any]:
    """Figures over the events at or after monotonic time `since` (the bench's window)."""
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if since is not None:
        events = [e for e in events if e["t"] >= since]
    ticks = [e for e in events if e["ev"] == "tick"]
    ends = {e["n"]: e for e in events if e["ev"] == "tick_end"}
    starts = [e["t"] for e in ticks]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    cpu = [b["cpu"] - a["cpu"] for a, b in itertools.pairwise(ticks)]
    walls = [ends[e["n"]]["t"] - e["t"] for e in ticks if e["n"] in ends]
    rounds = [e["took"] for e in events if e["ev"] == "round_end"]
    slots = [e["wait"] for e in events if e["ev"] == "slot"]
    started = Counter(e["tick"] for e in events if e["ev"] == "round")

    def dist(values: list[float]) -> str:
        if not values:
            return "-"
        ordered = sorted(values)
        return (f"median {statistics.median(ordered):.3f}, "
                f"p90 {ordered[int(0.9 * (len(ordered) - 1))]:.3f}, max {ordered[-1]:.3f}")

    return {
        "ticks": len(ticks),
        "tick gap s": dist(gaps),
        "tick wall s": dist(walls),
        "bot CPU per tick interval s": dist(cpu),
        "rounds started per tick": dist([float(started.get(e["n"], 0)) for e in ticks]),
        "not due (slow) per tick": dist([float(ends[e["n"]].get("not_due", 0))
                                          for e in ticks if e["n"] in ends]),
        "round s": dist(rounds),
        "request slots": dist([float(e.get("slots") or 0) for e in ends.values()
                               if e["t"] >= (since or 0)]),
        "slot waits": f"{len(slots)}, {dist(slots)}",
        "skipped ticks": sum(1 for e in events if e["ev"] == "skipped"),
        "missed ticks": sum(1 for e in events if e["ev"] == "missed"),
    }


def sample(path: Path, every: float = 0.005) -> None:
    """A sampling profile of the main thread (a thread looks at its stack every `every`
    seconds; no py-spy here): for each function, the samples it was on the stack of
    (inclusive) and at the top of (self), written to `path` every 10 s."""
    main = threading.main_thread().ident
    inclusive: Counter[str] = Counter()
    top: Counter[str] = Counter()
    total = 0

    def name(frame: Any) -> str:
        code = frame.f_code
        return f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:{code.co_name}"

    def loop() -> None:
        nonlocal total
        written = time.monotonic()
        while True:
            time.sleep(every)
            frame = sys._current_frames().get(main or 0)
            if frame is None:
                continue
            total += 1
            top[name(frame)] += 1
            seen = set()
            while frame is not None:
                seen.add(name(frame))
                frame = frame.f_back
            inclusive.update(seen)
            if time.monotonic() - written > 10:
                written = time.monotonic()
                path.write_text(json.dumps({"samples": total,
                                            "inclusive": inclusive.most_common(150),
                                            "self": top.most_common(80)}))

    threading.Thread(target=loop, daemon=True, name="bench sampler").start()


def main(argv: list[str]) -> int:
    install(Path(argv[0]))
    # Experiments, not the bot's settings: the GIL switch interval (seconds), and the
    # share of an interval a tick's requests are spread over (bot.poller.SEND_WITHIN).
    if os.environ.get("POLL_TRACE_SWITCH"):
        sys.setswitchinterval(float(os.environ["POLL_TRACE_SWITCH"]))
    if os.environ.get("POLL_TRACE_SEND_WITHIN"):
        from bot import poller

        poller.SEND_WITHIN = float(os.environ["POLL_TRACE_SEND_WITHIN"])
    if os.environ.get("POLL_TRACE_SAMPLE"):
        sample(Path(argv[0]).with_suffix(".profile.json"))
    from bot.__main__ import main as bot_main

    return bot_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
