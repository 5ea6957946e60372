"""`python -m bot` hands memory freed after a burst back to the system (glibc's
malloc_trim, every few seconds); how much it saves is measured in bench/heap.py."""

from __future__ import annotations

import asyncio

import pytest

from bot import gctune


async def test_the_heap_is_trimmed_again_and_again_until_the_bot_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert gctune._malloc_trim() is not None  # glibc, as in the image
    calls: list[int] = []
    thrice = asyncio.Event()

    def trim(pad: int) -> int:
        calls.append(pad)
        if len(calls) == 3:
            thrice.set()
        return 1

    monkeypatch.setattr(gctune, "_malloc_trim", lambda: trim)
    task = asyncio.create_task(gctune.trim_heap_forever(every=0.01))
    await asyncio.wait_for(thrice.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert set(calls) == {0}


async def test_without_malloc_trim_nothing_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gctune, "_malloc_trim", lambda: None)
    await asyncio.wait_for(gctune.trim_heap_forever(every=0.01), 5)  # returns at once
