"""Updates go straight to the routers and handlers that can take them (AreaDispatcher).

aiogram offers every update to each router in turn, and each router checks every
handler's filters until one matches (`TelegramEventObserver.trigger`); each check is a
coroutine call with the whole workflow data spread as keyword arguments, several times
over per router. With the bot's twelve areas that was a large share of its CPU per update
under `bench.latency --rate` (py-spy): a press for the buy menus went through the filters
of every area registered before it, a /buy through those of 30 message handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED, SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.filters.command import CommandException
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject

_UNKNOWN = object()  # a command, prefix or state no handler names (they all behave alike)

# What an update is, as far as filters can tell without running: its kind, its command
# (messages), its callback data prefix (presses) and the chat's FSM state.
Key = tuple[str, object, object, object]


@dataclass(frozen=True)
class _Takes:
    """What one handler can take, as far as its filters say for sure (None: anything)."""

    commands: frozenset[str] | None = None  # command filters: only these commands
    states: frozenset[str | None] | None = None  # a state filter: only in these states
    prefixes: frozenset[str] | None = None  # callback data filters: only these prefixes

    def may_take(self, key: Key) -> bool:
        update_type, command, prefix, state = key
        if update_type == "callback_query":
            return self.prefixes is None or prefix in self.prefixes
        if update_type == "message":
            return ((self.commands is None or command in self.commands)
                    and (self.states is None or state in self.states))
        return True


def _commands_of(f: Any) -> frozenset[str] | None:
    """The commands a Command filter passes, when it says them as plain names."""
    if (isinstance(f, Command) and f.prefix == "/" and not f.ignore_case
            and all(isinstance(c, str) for c in f.commands)):
        return frozenset(cast("tuple[str, ...]", f.commands))
    return None


def _states_of(f: Any) -> frozenset[str | None] | None:
    """The raw FSM states a State or StateFilter filter passes; None when any may."""
    allowed = f.states if isinstance(f, StateFilter) else (f,) if isinstance(f, State) else None
    if allowed is None:
        return None
    names: set[str | None] = set()
    for state in allowed:
        name = state.state if isinstance(state, State) else state
        if name == "*" or not (name is None or isinstance(name, str)):
            return None  # any state, or a whole group: not worth spelling out
        names.add(name)
    return frozenset(names)


def _prefix_of(f: Any) -> frozenset[str] | None:
    if isinstance(f, CallbackQueryFilter) and f.callback_data.__separator__ == ":":
        return frozenset({f.callback_data.__prefix__})
    return None


def _narrow(known: frozenset[str | None] | None, found: frozenset[Any] | None,
            ) -> frozenset[Any] | None:
    return known if found is None else found if known is None else known & found


def _takes(handler: HandlerObject) -> _Takes:
    commands = states = prefixes = None
    for f in handler.filters or ():  # every filter must pass: each one narrows
        callback = inspect.unwrap(f.callback)  # bot.inline_filters keeps the filter there
        commands = _narrow(commands, _commands_of(callback))
        states = _narrow(states, _states_of(callback))
        prefixes = _narrow(prefixes, _prefix_of(callback))
    return _Takes(commands, states, prefixes)


def _tree(router: Router) -> Iterator[Router]:  # the router and all under it, in order
    yield router
    for child in router.sub_routers:
        yield from _tree(child)


class AreaDispatcher(Dispatcher):
    """aiogram's dispatcher, but an update is offered only to the routers and handlers
    that could take it: a press to those that take its callback data's prefix, a message
    to those with a handler for its command (or for any text) in the chat's FSM state,
    anything else to those with a handler for its kind.

    Measured: 3.24–3.60 → 3.10–3.24 ms of the bot's CPU per update (bench.latency at 300
    updates/s, three interleaved pairs); in-process with handlers stubbed, routing a /buy
    took ~220 µs instead of ~750, a press ~240 instead of ~450.
    What is left out is only what has a filter that says no for sure (a command, a
    callback prefix, a state, an update kind with no handler), so the handler that answers
    is the one aiogram would have chosen, with the same data; a router with outer
    middlewares is left to aiogram. Call `index_areas()` once the routers are included;
    until then this is aiogram's dispatcher."""

    _indexed = False

    def index_areas(self) -> None:
        routers = list(_tree(self))
        self._takes = {id(h): _takes(h) for r in routers for o in r.observers.values()
                       for h in o.handlers}
        every = self._takes.values()
        self._known = (frozenset(c for t in every for c in t.commands or ()),
                       frozenset(p for t in every for p in t.prefixes or ()),
                       frozenset(s for t in every for s in t.states or ()))
        self._plans: dict[tuple[int, Key], tuple[list[HandlerObject], list[Router]]] = {}
        self._indexed = True  # plans are bounded: keys hold known names or _UNKNOWN

    def key(self, update_type: str, event: TelegramObject, raw_state: str | None) -> Key:
        commands, prefixes, states = self._known
        command: object = None
        prefix: object = None
        if update_type == "message" and isinstance(event, Message):
            command = _command(event.text or event.caption)
            if command is not None and command not in commands:
                command = _UNKNOWN
        elif update_type == "callback_query" and isinstance(event, CallbackQuery):
            data = event.data
            prefix = data.split(":", 1)[0] if data is not None else None
            if prefix is not None and prefix not in prefixes:
                prefix = _UNKNOWN
        return update_type, command, prefix, raw_state if raw_state in states else _UNKNOWN

    def _may_take(self, router: Router, key: Key) -> bool:
        """Some handler in `router` or under it could take the update (or aiogram's
        middlewares there must see it)."""
        update_type = key[0]
        for r in _tree(router):
            observer = r.observers.get(update_type)
            if observer is None:
                continue
            if observer.outer_middleware or any(
                    self._takes[id(h)].may_take(key) for h in observer.handlers):
                return True
        return False

    def plan(self, router: Router, key: Key) -> tuple[list[HandlerObject], list[Router]]:
        """The handlers of `router` and the routers under it that an update with `key`
        is offered to, in aiogram's order."""
        found = self._plans.get((id(router), key))
        if found is None:
            observer = router.observers.get(key[0])
            handlers = [h for h in observer.handlers if self._takes[id(h)].may_take(key)
                        ] if observer is not None else []
            found = self._plans[(id(router), key)] = (
                handlers, [r for r in router.sub_routers if self._may_take(r, key)])
        return found

    async def _propagate_event(self, observer: TelegramEventObserver | None,
                               update_type: str, event: TelegramObject,
                               **kwargs: Any) -> Any:
        if not self._indexed:
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        key = self.key(update_type, event, kwargs.get("raw_state"))
        return await self._offer(self, observer, key, event, kwargs)

    async def _offer(self, router: Router, observer: TelegramEventObserver | None, key: Key,
                     event: TelegramObject, kwargs: dict[str, Any]) -> Any:
        # Router._propagate_event and TelegramEventObserver.trigger (aiogram 3.31), over
        # the plan's handlers and routers; each step gets its own copy of the data as there.
        handlers, routers = self.plan(router, key)
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await self._trigger(observer, handlers, event, dict(kwargs))
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for child in routers:
            below = child.observers.get(key[0])
            if below is not None and below.outer_middleware:  # aiogram's own way
                response = await child.propagate_event(key[0], event, **kwargs)
            else:
                response = await self._offer(child, below, key, event,
                                             {**kwargs, "event_router": child})
            if response is not UNHANDLED:
                return response
        return UNHANDLED

    @staticmethod
    async def _trigger(observer: TelegramEventObserver, handlers: list[HandlerObject],
                       event: TelegramObject, kwargs: dict[str, Any]) -> Any:
        for handler in handlers:
            kwargs["handler"] = handler
            result, data = await handler.check(event, **kwargs)
            if result:
                kwargs.update(data)
                try:
                    wrapped = observer.outer_middleware.wrap_middlewares(
                        observer._resolve_middlewares(), handler.call)
                    return await wrapped(event, kwargs)
                except SkipHandler:
                    continue
        return UNHANDLED


def _command(text: str | None) -> str | None:
    """The command name a "/" Command filter reads in `text`, by aiogram's own parser."""
    if not text:
        return None
    try:
        found = Command.extract_command(text)
    except CommandException:  # nothing but spaces
        return None
    return found.command if found.prefix == "/" else None
