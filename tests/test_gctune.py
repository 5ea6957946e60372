"""`python -m bot` freezes the start-up heap and collects the young generation less often
(bot/gctune.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.gctune import YOUNG_THRESHOLD, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settling_freezes_the_heap_and_raises_the_young_threshold() -> None:
    _, older, oldest = gc.get_threshold()
    frozen = settle_heap()
    assert frozen > 0
    assert gc.get_freeze_count() == frozen
    assert gc.get_threshold() == (YOUNG_THRESHOLD, older, oldest)
