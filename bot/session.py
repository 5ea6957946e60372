"""The bot's HTTP session: aiogram's AiohttpSession with the response models kept alive.

aiogram 3.31's `BaseSession.check_response` parametrises `Response[method.__returning__]` on
every call. pydantic 2 caches parametrised generic models in a `WeakValueDictionary`
(`pydantic._internal._generics._GENERIC_TYPES_CACHE`, made weak-valued on purpose to stop a
memory leak: https://github.com/pydantic/pydantic/issues/6672, pull request #6681). Nothing
else holds `Response[Message]` after the call, and a class sits in reference cycles, so the
next cyclic garbage collection frees it and the following request builds it again: schema,
validator and all (about 1 ms of CPU each, and the garbage feeds the next collection).
Measured with `bench/update_cost.py`: 127 classes rebuilt over 750 updates before, none after.

The fix belongs where the classes are used: this session holds a strong reference to the one
`Response[T]` per returning type it has seen, so pydantic's own cache always hits. aiogram's
`check_response` is left as it is (it keeps its error handling); the set of returning types is
small and fixed (one per Bot API method), so the dictionary cannot grow without bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import TelegramType


class BotSession(AiohttpSession):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_models: dict[Any, type[Response[Any]]] = {}
        self._stopped = False

    async def stop(self) -> None:
        """Close for good. aiogram's session opens a new aiohttp session on the next request
        after `close()`; a request still coming from a task that outlived the shutdown would
        then open one nobody closes. After `stop()` such a request fails instead."""
        self._stopped = True
        await self.close()

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        if self._stopped:
            raise TelegramNetworkError(method=method, message="the bot is stopping")
        return await super().make_request(bot, method, timeout)

    def response_model(self, returning: Any) -> type[Response[Any]]:
        """`Response[returning]`, built once and kept for the session's lifetime."""
        try:
            return self._response_models[returning]
        except KeyError:
            model: type[Response[Any]] = Response[returning]
            self._response_models[returning] = model
            return model

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        # Pins the class; the `Response[...]` inside aiogram's method then hits pydantic's cache.
        self.response_model(method.__returning__)
        return super().check_response(bot, method, status_code, content)
