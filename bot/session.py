"""The bot's HTTP session: aiogram's AiohttpSession, with JSON request bodies and the
response models kept alive.

**Response models kept.** aiogram 3.31's `BaseSession.check_response` parametrises
`Response[method.__returning__]` on every call. pydantic 2 caches parametrised generic
models in a `WeakValueDictionary` (`pydantic._internal._generics._GENERIC_TYPES_CACHE`, made
weak-valued on purpose to stop a memory leak: https://github.com/pydantic/pydantic/issues/6672,
pull request #6681). Nothing else holds `Response[Message]` after the call, and a class sits
in reference cycles, so the next cyclic garbage collection frees it and the following request
builds it again: schema, validator and all (about 1 ms of CPU each). Measured with
`bench/update_cost.py`: 127 classes rebuilt over 750 updates before, none after. The set of
returning types is small and fixed (one per Bot API method), so the dictionary is bounded.

**JSON bodies.** aiogram sends every method as form data: `model_dump`, then
`prepare_value` walks the dump and JSON-encodes each nested value on its own, then aiohttp
encodes the form (≈150 µs for a menu with a dozen buttons, ~10 % of the bot's CPU under
`bench.latency`). The Bot API takes `application/json` for every method that uploads no
file, so a method is serialised here by pydantic-core in one call (≈30 µs). What JSON cannot
say the way the form does goes the form's way, unchanged: files (`InputFile`: multipart,
e.g. the CSV export), dates (the form sends unix time, pydantic would write ISO text), and
a bot default that resolves to None inside a nested object (the form leaves it out).
At the top level, what the form leaves out (None, "", a default that is None) is left out.

**What Telegram echoes is not rebuilt.** A sent or edited message comes back whole, with
the keyboard and the text's entities the bot has just sent; aiogram validates every button
and entity into pydantic objects (≈100 of the ≈150 µs of validating a country menu's
answer) that nothing here reads: handlers take `message_id` (and the chat) from what
`send_message`/`edit_*` return. For those methods (`ECHOES`) the answer's `reply_markup`,
`entities` and `link_preview_options` are dropped before validation: the returned
`Message` has them as None. Anything that needs them must read the message it sent.

**Answers are otherwise parsed as aiogram does.** `model_validate_json` (pydantic-core parsing the
text itself) was tried instead of `json.loads` + `model_validate`: no gain (getUpdates with
20 messages: 2.2 ms either way, CPU time). The cost is in validation: every nested Telegram
object runs aiogram's Python `remove_unset` validator and `model_post_init` (the bot
context), about 110 µs per update; that is aiogram's own design, left alone.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    Response,
    SendMessage,
)
from aiogram.types import InputFile, InputMedia, InputPaidMedia
from aiohttp import ClientError, ClientTimeout
from pydantic_core import PydanticSerializationError

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import TelegramType

JSON_HEADERS = {"Content-Type": "application/json"}
# Values that go the form's way: files, dates (pydantic would write ISO text, the form
# writes unix time) and media, whose video start time is such a date one level down (the
# only request types with a date field pydantic would not write as unix time).
FORM_ONLY = (InputFile, InputMedia, InputPaidMedia, datetime.datetime, datetime.timedelta)


# Methods whose answer is the message the bot just sent or edited (see "echoes" above).
ECHOES = (SendMessage, EditMessageText, EditMessageReplyMarkup, EditMessageCaption)
ECHOED = ("reply_markup", "entities", "caption_entities", "link_preview_options")


class _NeedsForm(Exception):
    """This method has something only the form encoding says right."""


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

    def response_model(self, returning: Any) -> type[Response[Any]]:
        """`Response[returning]`, built once and kept for the session's lifetime."""
        try:
            return self._response_models[returning]
        except KeyError:
            model: type[Response[Any]] = Response[returning]
            self._response_models[returning] = model
            return model

    # --- requests ---------------------------------------------------------------------

    def json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The method as a JSON body; None when it must go as form data (see above)."""
        leave_out: set[str] = set()
        for name in type(method).model_fields:
            value = getattr(method, name)
            if value is None:
                continue
            if isinstance(value, Default):
                value = bot.default[value.name]
                if value is None:
                    leave_out.add(name)
                    continue
            if isinstance(value, str):
                if not value:
                    leave_out.add(name)
            elif isinstance(value, FORM_ONLY) or (
                    isinstance(value, list) and any(isinstance(v, FORM_ONLY) for v in value)):
                return None

        needs_form = False

        def fallback(value: Any) -> Any:
            nonlocal needs_form
            if isinstance(value, Default):
                resolved = bot.default[value.name]
                if resolved is not None:
                    return resolved
            needs_form = True  # a file deeper down, or a default the form would leave out
            raise _NeedsForm

        try:
            return method.__pydantic_serializer__.to_json(
                method, exclude=leave_out or None, exclude_none=True, warnings=False,
                fallback=fallback)
        except PydanticSerializationError:  # pydantic-core wraps what `fallback` raised
            if needs_form:
                return None
            raise

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        if self._stopped:
            raise TelegramNetworkError(method=method, message="the bot is stopping")
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(url, data=body, headers=JSON_HEADERS,
                                    timeout=ClientTimeout(
                                        total=self.timeout if timeout is None else timeout),
                                    ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:  # the same errors as aiogram's own request
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status,
                                       content=raw_result)
        return cast("TelegramType", response.result)

    def check_response(self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int,
                       content: str) -> Response[TelegramType]:
        # Pins the class; the `Response[...]` inside aiogram's method then hits pydantic's cache.
        self.response_model(method.__returning__)
        echoes = isinstance(method, ECHOES)  # (not narrowing `method`: its type stays)
        if not echoes:
            return super().check_response(bot, method, status_code, content)
        loads = self.json_loads
        self.json_loads = _without_echoes(loads)  # this call only: no await in between
        try:
            return super().check_response(bot, method, status_code, content)
        finally:
            self.json_loads = loads


def _without_echoes(loads: Any) -> Any:
    def load(content: str) -> Any:
        data = loads(content)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, dict):
            for name in ECHOED:
                result.pop(name, None)
        return data

    return load
