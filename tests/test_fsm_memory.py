"""The in-memory FSM storage keeps only people who are in a dialog: 10,000 people who
each sent /start once must not leave 10,000 empty records behind."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_memory import MemoryStorage


class Form(StatesGroup):
    name = State()


def key(user: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=user, user_id=user)


async def test_reading_people_who_are_in_no_dialog_keeps_nothing() -> None:
    storage = MemoryStorage()
    for user in range(1000):
        assert await storage.get_state(key(user)) is None
        assert await storage.get_data(key(user)) == {}
        assert await storage.get_value(key(user), "x", 5) == 5
    assert not storage.states
    assert not storage.data


async def test_a_dialog_is_kept_until_it_ends_then_forgotten() -> None:
    storage = MemoryStorage()
    await storage.set_state(key(1), Form.name)
    await storage.update_data(key(1), {"service": "wa"})
    assert await storage.get_state(key(1)) == Form.name.state
    assert await storage.get_value(key(1), "service") == "wa"
    data = await storage.get_data(key(1))
    data["service"] = "changed"  # a copy: the stored data is not changed through it
    assert await storage.get_data(key(1)) == {"service": "wa"}
    assert await storage.get_state(key(2)) is None  # people are apart

    await storage.set_state(key(1), None)  # what FSMContext.clear() does
    await storage.set_data(key(1), {})
    assert not storage.states
    assert not storage.data
