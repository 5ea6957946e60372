"""Updates go straight to the areas that can take them (handlers.routing.AreaDispatcher),
and the handler that answers is always the one aiogram's own propagation picks.

The bot's real routers are offered a wide spread of updates (every command, text, captions,
mentions, service messages, every button of every menu class with every action, forged and
foreign presses, member updates) in every chat kind and FSM state, twice: through the index
and through aiogram's propagation over all areas. Handlers are not run: the test records
which one would be called."""

from __future__ import annotations

import datetime
import itertools
import typing
from enum import Enum
from typing import Any

import pytest
from aiogram import Bot
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    ErrorEvent,
    Message,
    PhotoSize,
    TelegramObject,
    Update,
    User,
)
from pydantic import ValidationError

from bot.inline_filters import inline_pure_filters
from bot.ui import callbacks
from bot.ui.group_rules import RulesCb
from handlers import get_routers
from handlers.buy_services import BuyStates
from handlers.groups import GroupKeyForm
from handlers.keys import KeyForm
from handlers.routing import AreaDispatcher
from handlers.settings import SettingsForm

ME = User(id=999, is_bot=True, first_name="Koala", username="koalabot")
ALICE = User(id=1, is_bot=False, first_name="Alice", language_code="en")
WHEN = datetime.datetime(2026, 11, 26, tzinfo=datetime.UTC)
CHATS = [Chat(id=1, type="private"), Chat(id=-100, type="group"),
         Chat(id=-1001, type="supergroup")]
TEXTS = ["/start", "/start deep", "/help", "/buy", "/buy@koalabot", "/buy@otherbot", "/balance",
         "/key", "/settings", "/history", "/active", "/cancel", "/stats", "/setkey",
         "/unlink", "/groupsettings", "/nope", "/", " /history", "hello", "telegram",
         "demoKEY0123456789abcdefABCDEF", "@koalabot hi", None]


def dispatcher() -> AreaDispatcher:
    dp = AreaDispatcher()
    dp.include_routers(*get_routers())
    inline_pure_filters(dp)
    dp.index_areas()
    return dp


def messages() -> list[Message]:
    out = []
    for chat, text in itertools.product(CHATS, TEXTS):
        out.append(Message(message_id=7, date=WHEN, chat=chat, from_user=ALICE, text=text))
        if text is not None:  # the same words as a photo's caption
            out.append(Message(message_id=7, date=WHEN, chat=chat, from_user=ALICE,
                               caption=text, photo=[PhotoSize(file_id="f", file_unique_id="u",
                                                              width=1, height=1)]))
        bot_menu = Message(message_id=6, date=WHEN, chat=chat, from_user=ME, text="menu")
        out.append(Message(message_id=7, date=WHEN, chat=chat, from_user=ALICE, text=text,
                           reply_to_message=bot_menu))
    for chat in CHATS[1:]:  # service messages
        out.append(Message(message_id=8, date=WHEN, chat=chat, from_user=ALICE,
                           left_chat_member=ME))
        out.append(Message(message_id=8, date=WHEN, chat=chat, from_user=ALICE,
                           migrate_to_chat_id=-1002))
        out.append(Message(message_id=8, date=WHEN, chat=chat, from_user=ALICE,
                           migrate_from_chat_id=-100))
    return out


def _sample(annotation: Any) -> list[Any]:
    """Values to try for a callback data field of this type."""
    base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated \
        else annotation
    if isinstance(base, type) and issubclass(base, Enum):
        return list(base)
    return [ALICE.id, 2, "tg"]  # whichever the field takes


def button_data() -> list[str | None]:
    """Every menu class, every action, the presser's own menu and someone else's; forged
    and unknown data."""
    found: list[str | None] = [None, "", "zz:1", "s", "s:", "s:pk", "k:forged:x", "noop"]
    classes = [c for c in [*vars(callbacks).values(), RulesCb]
               if isinstance(c, type) and issubclass(c, CallbackData) and c is not CallbackData]
    assert len(classes) >= 10
    for cls in classes:
        required = {name: _sample(f.annotation) for name, f in cls.model_fields.items()
                    if f.is_required()}
        for values in itertools.product(*required.values()):
            try:
                found.append(cls(**dict(zip(required, values, strict=True))).pack())
            except ValidationError:
                continue
    return found


def presses() -> list[CallbackQuery]:
    out = []
    for chat, data in itertools.product(CHATS, button_data()):
        menu = Message(message_id=5, date=WHEN, chat=chat, from_user=ME, text="menu")
        out.append(CallbackQuery(id="q", from_user=ALICE, chat_instance="c", data=data,
                                 message=menu))
    return out


def member_updates() -> list[ChatMemberUpdated]:
    """The bot (or a member) joining, leaving, staying."""
    ways: list[ChatMemberMember | ChatMemberLeft] = [ChatMemberMember(user=ME),
                                                     ChatMemberLeft(user=ME)]
    return [ChatMemberUpdated(chat=chat, from_user=ALICE, date=WHEN, old_chat_member=old,
                              new_chat_member=new)
            for chat, old, new in itertools.product(CHATS, ways, ways)]


def states() -> list[str | None]:
    """No state, one nobody names, and every state of the bot's forms."""
    forms = [KeyForm, SettingsForm, GroupKeyForm, BuyStates]
    return [None, "Unknown:state", *sorted(n for f in forms for n in f.__all_states_names__)]


@pytest.fixture
def picked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Handlers are not run: each one aiogram calls is noted instead, with the router it
    was reached through and the names of the data it was given."""
    calls: list[str] = []

    async def note(self: HandlerObject, *_: Any, **data: Any) -> bool:
        calls.append(f"{self.callback.__module__}.{self.callback.__qualname__}")
        calls.append(f"{data['event_router'].name} {sorted(data)}")
        return True

    monkeypatch.setattr(HandlerObject, "call", note)
    return calls


async def test_every_update_reaches_the_handler_aiogram_would_pick(picked: list[str]) -> None:
    dp = dispatcher()
    bot = Bot("123:abc")
    bot._me = ME  # Command and the fallback read the bot's username; no request is made
    events: list[tuple[str, TelegramObject]] = [
        *[("message", m) for m in messages()],
        *[("callback_query", q) for q in presses()],
        *[(kind, u) for u in member_updates() for kind in ("my_chat_member", "chat_member")],
        *[("edited_message", m) for m in messages()[:3]],
        ("error", ErrorEvent(update=Update(update_id=1), exception=RuntimeError("boom"))),
    ]
    reached: set[str] = set()
    for (update_type, event), state in itertools.product(events, states()):
        data = {"bot": bot, "event_from_user": ALICE, "raw_state": state,
                "event_chat": getattr(event, "chat", None)}
        picked.clear()
        await dp.propagate_event(update_type, event, **data)
        through_index = list(picked)
        dp._indexed = False  # aiogram's own propagation, every router and handler in turn
        picked.clear()
        try:
            await dp.propagate_event(update_type, event, **data)
        finally:
            dp._indexed = True
        assert through_index == picked, (update_type, event, state)
        reached.update(picked[::2])
    every = {f"{h.callback.__module__}.{h.callback.__qualname__}"
             for r in dp.chain_tail for o in r.observers.values() for h in o.handlers}
    every.discard("aiogram.dispatcher.dispatcher.Dispatcher._listen_update")
    assert reached == every  # the spread above reaches every handler the bot has
    await bot.session.close()


def test_the_index_narrows() -> None:
    """Guards against an index that offers everything (still correct, but no faster)."""
    dp = dispatcher()
    everything = [r.name for r in dp.sub_routers]

    def areas(update_type: str, event: TelegramObject, state: str | None = None) -> list[str]:
        return [r.name for r in dp.plan(dp, dp.key(update_type, event, state))[1]]

    def text(words: str) -> Message:
        return Message(message_id=1, date=WHEN, chat=CHATS[0], from_user=ALICE, text=words)

    service = callbacks.ServiceCb(action=callbacks.ServiceAction.PICK, owner=1, svc="tg").pack()
    press = CallbackQuery(id="q", from_user=ALICE, chat_instance="c", data=service)
    assert areas("callback_query", press) == ["guards", "buy", "fallback"]
    assert areas("message", text("/start")) == ["start", "groups", "keys", "buy", "fallback"]
    in_form = areas("message", text("/balance"), "SettingsForm:tz")
    assert "settings" in in_form
    assert not {"buy", "history"} & set(in_form)
    assert areas("error", press) == ["errors"]
    assert areas("edited_message", text("x")) == []
    assert len(areas("message", text("/buy"))) < len(everything) / 2
