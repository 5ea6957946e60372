"""Between the page and the world: emulator changes become JSON events for every open
page, and what a person does in the page (types, presses, opens a link, delivers an SMS,
breaks the provider) becomes the emulators' own user-side calls.

Nothing here reaches into the bot: the page is one more Telegram client and one more
person at the provider's control panel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from typing import Any

from bot.catalog import Catalog
from bot.playground import render
from bot.sandbox.playground import Cast, World
from bot.sandbox.provider import ACTIONS, FINAL_STATES, SandboxCall, mask_key
from bot.sandbox.telegram import BOT_FIRST_NAME, BOT_USERNAME, EmuChat, EmuUser

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Listener = Callable[[JSON], None]

CALLS_KEPT = 60  # provider calls a newly opened page is shown
MESSAGES_KEPT = 300  # per chat, for a newly opened page
ACTIVATIONS_SHOWN = 12
SLOW_SECONDS = 3.0  # below the bot's provider time-out: answers come late, not never
PRESS_TIMEOUT = 30.0
# What the side panel's fault buttons do to the provider, until "Clear faults".
FAULTS: dict[str, str] = {
    "slow": f"every answer {SLOW_SECONDS:g} s late",
    "5xx": "HTTP 500/502 for every call",
    "garbage": "answers that are not the API",
    "no_numbers": "NO_NUMBERS for every purchase",
}


class ActionError(Exception):
    """Something the page asked that cannot be done; the text is shown to the person."""


class Bridge:
    def __init__(self, world: World, cast: Cast, demo_key: str) -> None:
        self.world = world
        self.cast = cast
        self.demo_key = demo_key
        self.catalog = Catalog()
        self.faults: list[str] = []
        self._listeners: set[Listener] = set()
        self._seen: dict[tuple[int, int], int] = {}  # (chat, message) -> seq last sent
        self._last_side = ""
        self._last_menus = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random()
        world.provider.call_listeners.append(self._on_call)

    # -- the page's view -----------------------------------------------------------------
    @property
    def chats(self) -> list[EmuChat]:
        tg = self.world.tg
        return [*(tg.private_chat(p) for p in self.cast.people), self.cast.group]

    def snapshot(self) -> JSON:
        """Everything a newly opened page needs."""
        messages = [render.message(m) for chat in self.chats
                    for m in chat.messages[-MESSAGES_KEPT:] if not m.deleted]
        calls = self.world.provider.call_log[-CALLS_KEPT:]
        return {
            "type": "hello",
            "bot": {"name": BOT_FIRST_NAME, "username": BOT_USERNAME},
            "people": [render.person(p) for p in self.cast.people],
            "chats": [render.chat_info(c) for c in self.chats],
            "messages": messages,
            "menus": self.menus(),
            "side": self.side(),
            "calls": [render.call(c) for c in calls],
            "faults": FAULTS,
        }

    def menus(self) -> JSON:
        """Command menu per "chat_id:user_id" (the admin's differs in the group)."""
        tg = self.world.tg
        out: JSON = {}
        for chat in self.chats:
            users = [chat.user] if chat.user is not None else self.cast.people
            for user in users:
                out[f"{chat.id}:{user.id}"] = render.command_menu(tg, chat, user)
        return out

    def side(self) -> JSON:
        provider = self.world.provider
        acts = sorted(provider.activations, key=lambda a: (a.status in FINAL_STATES, -a.id))
        return {
            "accounts": render.accounts(provider, {self.demo_key}),
            "activations": [render.activation(a, self.catalog)
                            for a in acts[:ACTIVATIONS_SHOWN]],
            "faults": list(self.faults),
        }

    # -- events out ----------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.add(listener)
        return lambda: self._listeners.discard(listener)

    def emit(self, event: JSON) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _on_call(self, entry: SandboxCall) -> None:
        self.emit({"type": "call", "call": render.call(entry)})

    def scan(self) -> None:
        """Emit what changed since the last scan: messages new, edited or deleted, the
        side panel, the command menus."""
        for chat in self.chats:
            for msg in chat.messages:
                key = (chat.id, msg.message_id)
                if self._seen.get(key) == msg.seq:
                    continue
                known = key in self._seen
                self._seen[key] = msg.seq
                if msg.deleted:
                    if known:
                        self.emit({"type": "delete", "chat_id": chat.id, "id": msg.message_id})
                else:
                    self.emit({"type": "message", "message": render.message(msg)})
        side = self.side()
        encoded = json.dumps(side, sort_keys=True)
        if encoded != self._last_side:
            self._last_side = encoded
            self.emit({"type": "side", "side": side})
        menus = self.menus()
        encoded = json.dumps(menus, sort_keys=True)
        if encoded != self._last_menus:
            self._last_menus = encoded
            self.emit({"type": "menus", "menus": menus})

    async def run(self) -> None:
        """Watch the world until cancelled (the side panel is also refreshed each second:
        the provider's clock moves without a request)."""
        while True:
            try:
                self.scan()
            except Exception:  # a bad event must not stop the page's updates
                log.exception("playground scan failed")
            await self.world.tg.wait_change(1.0)
            await asyncio.sleep(0.02)  # one event per burst of changes, not per change

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(ValueError):
            self.world.provider.call_listeners.remove(self._on_call)

    # -- actions in ----------------------------------------------------------------------
    async def act(self, action: JSON, reply: Listener) -> None:
        """Do what the page asked; `reply` reaches only the page that asked."""
        kind = str(action.get("type", ""))
        handler = getattr(self, f"_do_{kind}", None)
        if handler is None:
            raise ActionError(f"unknown action {kind!r}")
        await handler(action, reply)

    def _user(self, action: JSON) -> EmuUser:
        user = self.world.tg.users.get(_int(action, "user_id"))
        if user is None or user not in self.cast.people:
            raise ActionError("unknown person")
        return user

    def _chat_of(self, action: JSON, user: EmuUser) -> EmuChat:
        chat = next((c for c in self.chats if c.id == _int(action, "chat_id")), None)
        if chat is None:
            raise ActionError("unknown chat")
        inside = (chat.user is user if chat.type == "private"
                  else any(u.id == user.id for u in [*chat.admins, *chat.members]))
        if not inside:
            raise ActionError(f"{user.first_name} is not in this chat")
        return chat

    async def _do_send(self, action: JSON, reply: Listener) -> None:
        user = self._user(action)
        chat = self._chat_of(action, user)
        text = str(action.get("text", "")).strip()
        if not text:
            raise ActionError("nothing to send")
        if len(text) > 4096:
            raise ActionError("a message is 4096 characters at most")
        reply_to = action.get("reply_to")
        target = chat.message(int(reply_to)) if isinstance(reply_to, int) else None
        await chat.send(text, user,
                        reply_to=target.message_id if target and not target.deleted else None)

    async def _do_press(self, action: JSON, reply: Listener) -> None:
        user = self._user(action)
        chat = self._chat_of(action, user)
        message_id, data = _int(action, "message_id"), str(action.get("data", ""))
        target = chat.message(message_id)
        if target is None or target.deleted:
            raise ActionError("this message is gone")

        async def press() -> None:
            # Like a Telegram app: the button spins until the bot answers the query.
            try:
                answer = await chat.press_data(data, message_id, user, timeout=PRESS_TIMEOUT)
            except AssertionError:
                reply({"type": "answer", "chat_id": chat.id, "message_id": message_id,
                       "text": "The bot did not answer this button.", "show_alert": False})
                return
            reply({"type": "answer", "chat_id": chat.id, "message_id": message_id,
                   "text": answer.text or "", "show_alert": answer.show_alert,
                   "url": answer.url})

        self._spawn(press())

    async def _do_open_link(self, action: JSON, reply: Listener) -> None:
        """A t.me link to the bot (/setkey's button): the person's private chat opens
        and sends "/start <payload>", as a Telegram app does."""
        user = self._user(action)
        try:
            await self.world.tg.start_link(user, str(action.get("url", "")))
        except AssertionError as exc:
            raise ActionError(str(exc).splitlines()[0]) from None
        reply({"type": "open_chat", "chat_id": self.world.tg.private_chat(user).id})

    async def _do_sms(self, action: JSON, reply: Listener) -> None:
        act_id = _int(action, "activation_id")
        code = str(action.get("code") or "").strip() or f"{self._rng.randrange(10**6):06d}"
        text = str(action.get("text") or "").strip() or None
        if len(code) > 32 or (text is not None and len(text) > 1000):
            raise ActionError("that SMS is too long")
        if text is not None and code not in text:
            text = f"{text} {code}"
        provider = self.world.provider
        try:
            act = provider.activation(act_id)
        except KeyError:
            raise ActionError("no such activation") from None
        if act.final:
            raise ActionError("this activation has ended: the provider drops its SMS")
        provider.deliver_sms(act_id, code, text or f"Your verification code is {code}. "
                             "Do not share it with anyone.")
        reply({"type": "toast", "text": f"SMS with code {code} delivered to +{act.phone}"})
        self.scan()

    async def _do_fault(self, action: JSON, reply: Listener) -> None:
        kind = str(action.get("kind", ""))
        provider = self.world.provider
        if kind not in FAULTS:
            raise ActionError(f"unknown fault {kind!r}")
        if kind in self.faults:
            return
        if kind == "slow":
            provider.delay_answers(SLOW_SECONDS, actions=set(ACTIONS), count=None)
        elif kind == "5xx":
            provider.inject_faults("http500")
        elif kind == "garbage":
            provider.inject_faults("garbage")
        else:
            provider.inject_error("NO_NUMBERS", actions={"getNumber", "getNumberV2"})
        self.faults.append(kind)
        self.scan()

    async def _do_clear_faults(self, action: JSON, reply: Listener) -> None:
        self.world.provider.clear_faults()
        self.world.provider.clear_errors()
        self.faults.clear()
        self.scan()

    async def _do_topup(self, action: JSON, reply: Listener) -> None:
        provider = self.world.provider
        balances = provider.state()["accounts"]
        assert isinstance(balances, dict)
        key = next((k for k in balances if mask_key(k) == action.get("key_hint")), None)
        if key is None:
            raise ActionError("no such account")
        provider.add_account(key, provider.balance(key) + 100.0)
        self.scan()

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _int(action: JSON, key: str) -> int:
    value = action.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ActionError(f"{key} is missing")
    try:
        return int(value)
    except ValueError:
        raise ActionError(f"{key} is not a number") from None
