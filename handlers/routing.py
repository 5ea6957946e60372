"""Button presses skip the routers that have no handler for their callback data.

aiogram offers a press to each router in turn, and each router checks every handler's
filters until one matches (`TelegramEventObserver.trigger`); each check is a coroutine
call with the whole workflow data spread as keyword arguments. A press for the buy menus
went through the filters of every area registered before it (settings alone has 18
handlers): about a third of the bot's CPU per update was aiogram routing and filters
under `bench.latency --rate` (py-spy).

A router whose button handlers (its own and those of the routers under it) all filter
on a `CallbackData` class gets one router-wide filter: the data's prefix is one of
theirs. A press with another prefix could not pass any of those handlers, so the result
is the same, with one check instead of all of them. A router with a handler that takes
other presses (guards, the fallback) is left as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject


class PrefixGate(Filter):
    """True for a press whose callback data starts with one of `prefixes`."""

    def __init__(self, prefixes: set[str]) -> None:
        self.prefixes = frozenset(prefixes)

    async def __call__(self, query: CallbackQuery) -> bool:
        data = query.data
        return data is not None and data.split(":", 1)[0] in self.prefixes

    def __str__(self) -> str:
        return f"PrefixGate({sorted(self.prefixes)})"


def _prefixes(router: Router) -> set[str] | None:
    """The callback data prefixes `router` and its sub-routers handle; None when one of
    their handlers may take a press without a CallbackData filter."""
    found: set[str] = set()
    for handler in router.callback_query.handlers:
        own = {f.callback.callback_data.__prefix__ for f in handler.filters or ()
               if isinstance(f.callback, CallbackQueryFilter)
               and f.callback.callback_data.__separator__ == ":"}
        if not own:
            return None
        found |= own
    for child in router.sub_routers:
        below = _prefixes(child)
        if below is None:
            return None
        found |= below
    return found


def gate_presses(router: Router) -> dict[str, Any]:
    """Give `router` and every router under it its gate where one applies (call once
    the routers are built and included); returns {router name: prefixes} for those."""
    gated: dict[str, Any] = {}
    prefixes = _prefixes(router)
    if prefixes is not None:
        router.callback_query.filter(PrefixGate(prefixes))
        gated[router.name] = sorted(prefixes)
    for child in router.sub_routers:
        gated.update(gate_presses(child))
    return gated


# --- updates go straight to the areas that can take them ------------------------------

ANY: None = None  # "no restriction": an area or handler that may take anything
_UNKNOWN = object()  # a command, prefix or state no handler names (they all behave alike)


@dataclass(frozen=True)
class _Takes:
    """What one message handler can take, as far as its filters say for sure."""

    commands: frozenset[str] | None  # a command filter: only these commands
    states: frozenset[str | None] | None  # a state filter: only in these FSM states

    def may_take(self, command: object, state: object) -> bool:
        return ((self.commands is None or command in self.commands)
                and (self.states is None or state in self.states))


def _unwrap(f: FilterObject) -> Any:
    return inspect.unwrap(f.callback)  # bot.inline_filters keeps the sync filter there


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


def _message_handler(handler: HandlerObject) -> _Takes:
    commands: frozenset[str] | None = None
    states: frozenset[str | None] | None = None
    for f in handler.filters or ():  # every filter must pass: each one narrows
        callback = _unwrap(f)
        if (found := _commands_of(callback)) is not None:
            commands = found if commands is None else commands & found
        if (named := _states_of(callback)) is not None:
            states = named if states is None else states & named
    return _Takes(commands, states)


def _observers(router: Router, update_type: str) -> Iterator[TelegramEventObserver]:
    observer = router.observers.get(update_type)
    if observer is not None:
        yield observer
    for child in router.sub_routers:
        yield from _observers(child, update_type)


@dataclass
class _Area:
    router: Router
    update_types: frozenset[str]  # those its routers have handlers for
    prefixes: frozenset[str] | None  # presses: None when a handler takes other data
    messages: tuple[_Takes, ...] | None  # messages: None when any may pass

    @classmethod
    def of(cls, router: Router) -> _Area:
        types = {name for name in router.observers
                 if any(o.handlers for o in _observers(router, name))}
        every = list(_observers(router, "message"))
        messages: tuple[_Takes, ...] | None = tuple(
            _message_handler(h) for o in every for h in o.handlers)
        prefixes = _prefixes(router)
        if any(o.outer_middleware for name in router.observers
               for o in _observers(router, name)):
            types = set(router.observers)  # its middlewares see what it cannot take:
            prefixes = messages = None  # leave it to aiogram
        return cls(router, frozenset(types), None if prefixes is None else frozenset(prefixes),
                   messages)

    def may_take(self, update_type: str, command: object, prefix: object,
                 state: object) -> bool:
        if update_type not in self.update_types:
            return False
        if update_type == "callback_query":
            return self.prefixes is None or prefix in self.prefixes
        if update_type == "message" and self.messages is not None:
            return any(t.may_take(command, state) for t in self.messages)
        return True


class AreaDispatcher(Dispatcher):
    """aiogram's dispatcher, but an update is offered only to the areas (top-level
    routers) that have a handler it could pass: a press to those that take its callback
    data's prefix, a message to those with a handler for its command (or for any text)
    in the chat's FSM state, anything else to those with a handler for its kind.

    aiogram offers every update to each area in turn, and each area runs its filters
    against it: a /buy went through the filters of 30 message handlers before it reached
    the buy area's, and a press through the gates of nine areas, each visit spreading the
    whole workflow data as keyword arguments several times over. That was about a fifth of
    the bot's CPU per update at 300 updates/s (py-spy, bench.latency). The areas skipped
    are those whose every handler has a filter that says no for sure (a command, a callback
    prefix, a state, an update kind it has no handler for), so the handler that answers is
    the one aiogram would have chosen; an area with outer middlewares is always offered.
    Call `index_areas()` once the routers are included; until then this is aiogram's."""

    _areas: list[_Area] | None = None
    _known: tuple[frozenset[str], frozenset[str], frozenset[str | None]]
    _picked: dict[tuple[str, object, object, object], list[Router]]

    def index_areas(self) -> None:
        areas = [_Area.of(router) for router in self.sub_routers]
        commands = {c for a in areas for t in a.messages or () for c in t.commands or ()}
        prefixes = {p for a in areas for p in a.prefixes or ()}
        states = {s for a in areas for t in a.messages or () for s in t.states or ()}
        self._known = frozenset(commands), frozenset(prefixes), frozenset(states)
        self._picked = {}  # bounded: keys are known names or _UNKNOWN
        self._areas = areas

    def areas_for(self, update_type: str, event: TelegramObject,
                  raw_state: str | None) -> list[Router]:
        """The areas, in order, that `event` is offered to."""
        if self._areas is None:
            return list(self.sub_routers)
        commands, prefixes, states = self._known
        command: object = None
        prefix: object = None
        state: object = raw_state if raw_state in states else _UNKNOWN
        if update_type == "message" and isinstance(event, Message):
            command = _command(event.text or event.caption)
            if command is not None and command not in commands:
                command = _UNKNOWN
        elif update_type == "callback_query" and isinstance(event, CallbackQuery):
            data = event.data
            prefix = data.split(":", 1)[0] if data is not None else None
            if prefix is not None and prefix not in prefixes:
                prefix = _UNKNOWN
        key = (update_type, command, prefix, state)
        picked = self._picked.get(key)
        if picked is None:
            picked = self._picked[key] = [a.router for a in self._areas
                                          if a.may_take(update_type, command, prefix, state)]
        return picked

    async def _propagate_event(self, observer: TelegramEventObserver | None,
                               update_type: str, event: TelegramObject,
                               **kwargs: Any) -> Any:
        # Router._propagate_event (aiogram 3.31), with the areas narrowed.
        response = UNHANDLED
        if observer:
            result, data = await observer.check_root_filters(event, **kwargs)
            if not result:
                return UNHANDLED
            kwargs.update(data)
            response = await observer.trigger(event, **kwargs)
            if response is REJECTED:
                return UNHANDLED
            if response is not UNHANDLED:
                return response
        for router in self.areas_for(update_type, event, kwargs.get("raw_state")):
            response = await router.propagate_event(update_type=update_type, event=event,
                                                    **kwargs)
            if response is not UNHANDLED:
                break
        return response


def _command(text: str | None) -> str | None:
    """The command a Command filter would read in `text` (aiogram's
    `Command.extract_command`, prefix "/"): its name without the bot's @mention."""
    first = text.split(maxsplit=1)[:1] if text else []
    if not first or not first[0].startswith("/"):
        return None
    return first[0][1:].partition("@")[0]
