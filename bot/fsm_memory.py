"""The FSM storage without Redis: in memory, holding only the people who are in a dialog.

aiogram's MemoryStorage is a defaultdict of records: every key ever read (each update
asks for its user's state) leaves a record behind, empty or not, for the life of the
process; 10,000 people who sent /start once held ~3.6 MiB. Here a key is stored only while
it has a state or data, and setting both back to empty forgets it.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from typing import Any, overload

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey


class MemoryStorage(BaseStorage):
    def __init__(self) -> None:
        self.states: dict[StorageKey, str] = {}
        self.data: dict[StorageKey, dict[str, Any]] = {}

    async def close(self) -> None:
        pass

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        if value is None:
            self.states.pop(key, None)
        else:
            self.states[key] = value

    async def get_state(self, key: StorageKey) -> str | None:
        return self.states.get(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        if data:
            self.data[key] = data.copy()
        else:
            self.data.pop(key, None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        found = self.data.get(key)
        return found.copy() if found is not None else {}

    @overload
    async def get_value(self, storage_key: StorageKey, dict_key: str) -> Any | None: ...

    @overload
    async def get_value(self, storage_key: StorageKey, dict_key: str, default: Any) -> Any: ...

    async def get_value(self, storage_key: StorageKey, dict_key: str,
                        default: Any | None = None) -> Any | None:
        return copy(self.data.get(storage_key, {}).get(dict_key, default))
