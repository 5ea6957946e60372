"""In-process Telegram Bot API emulator plus a test-side API for acting as users.

The bot under test talks to it over real HTTP (aiogram ``AiohttpSession`` pointed at
``TelegramAPIServer.from_base(url)``), so the whole aiogram stack — serialisation,
error mapping, polling — is exercised. Tests run in the same event loop and drive
users through :class:`EmuChat` (``send``, ``press``, ``wait_for`` ...).

Only stdlib + aiohttp: the emulator must not depend on the client it is testing.
Error descriptions are copied from the real Bot API because aiogram (and our
handlers) branch on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, TypeVar

from aiohttp import web

from bot.sandbox.telegram_groups import GroupChatMixin, GroupEmulatorMixin, auto_entities

__all__ = [
    "MEDIA_KINDS",
    "CallbackResult",
    "EmuChat",
    "EmuDocument",
    "EmuMessage",
    "EmuRequest",
    "EmuRevision",
    "EmuUser",
    "TelegramEmulator",
]

JSON = dict[str, Any]
T = TypeVar("T")

BOT_FIRST_NAME = "KoalaBot"
BOT_USERNAME = "koala_test_bot"
DEFAULT_BOT_ID = 7000000001

# Real Bot API descriptions (aiogram and handlers match on these strings).
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the supergroup chat"
NOT_MEMBER = "Forbidden: bot is not a member of the supergroup chat"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_NOT_FOUND = "Bad Request: chat not found"
CALLBACK_TEXT_LIMIT = 200  # characters of an answerCallbackQuery text

# Update types Telegram sends when allowed_updates is empty/unset.
_DEFAULT_UPDATES = frozenset(
    {"message", "edited_message", "callback_query", "inline_query", "my_chat_member"}
)
_INLINE_BUTTON_KINDS = (
    "url",
    "callback_data",
    "copy_text",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
)
# Methods that create or change messages: subject to block/flood/slow faults.
_SEND_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    }
)
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None,
                 parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.parameters = parameters  # ResponseParameters, e.g. migrate_to_chat_id


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    # Entity offsets/lengths are measured in UTF-16 code units by the Bot API.
    return len(text.encode("utf-16-le")) // 2


def _drop_none(value: Any) -> Any:
    # Clients differ in whether they send nulls; Telegram never echoes them back.
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


# --------------------------------------------------------------------------- HTML


class _HtmlEntities(HTMLParser):
    """Telegram's HTML parse_mode: plain text + entities, rejecting what Telegram rejects."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]
        self._parts: list[str] = []
        self._length = 0
        self._stack: list[tuple[str, JSON | None]] = []
        self.entities: list[JSON] = []

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        return len(self._source[: self._line_starts[line - 1] + col].encode())

    @staticmethod
    def _fail(why: str) -> _ApiError:
        return _bad(f"can't parse entities: {why}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        if kind is None:
            raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        attr = {k: v or "" for k, v in attrs}
        base: JSON = {"type": kind, "offset": self._length}
        entity: JSON | None = base
        if tag == "span" and attr.get("class") != "tg-spoiler":
            raise self._fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset()}'
            )
        if tag == "a":
            entity = {**base, "url": attr.get("href", "")}
        elif tag == "blockquote" and "expandable" in attr:
            entity = {**base, "type": "expandable_blockquote"}
        elif tag == "tg-emoji":
            entity = {**base, "custom_emoji_id": attr.get("emoji-id", "")}
        elif tag == "code" and self._stack and self._stack[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            parent = self._stack[-1][1]
            lang = attr.get("class", "").removeprefix("language-")
            if parent is not None and lang:
                parent["language"] = lang
            entity = None
        self._stack.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, entity = self._stack.pop()
        if open_tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity is not None and self._length > entity["offset"]:
            entity["length"] = self._length - entity["offset"]
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_len(data)

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self._source)
        self.close()
        if self._stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1][0]}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self._parts), self.entities


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Render Telegram HTML to (plain text, entities); raises the API's parse error."""
    return _HtmlEntities(source).parse()


# --------------------------------------------------------------------------- model


@dataclass
class EmuUser:
    id: int
    first_name: str = "Alice"
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class EmuDocument:
    file_id: str
    file_unique_id: str
    filename: str
    data: bytes
    mime_type: str | None = None

    @property
    def file_path(self) -> str:
        return f"documents/{self.file_unique_id}_{self.filename}"

    def to_api(self) -> JSON:
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "file_size": len(self.data),
        }
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass
class EmuRevision:
    """One earlier state of an edited message."""

    text: str
    html: str | None
    reply_markup: JSON | None
    date: int


@dataclass
class EmuMessage:
    chat: EmuChat = field(repr=False)
    message_id: int
    date: int
    sender: JSON
    from_bot: bool
    text: str = ""
    """Plain text (tags stripped, entities unescaped); the caption for documents."""
    html: str | None = None
    """Text exactly as the bot sent it when parse_mode was HTML, else None."""
    entities: list[JSON] = field(default_factory=list)
    reply_markup: JSON | None = None
    """Inline keyboard only (reply keyboards live on ``EmuChat.reply_keyboard``)."""
    reply_to: int | None = None
    document: EmuDocument | None = None
    link_preview_options: JSON | None = None
    disable_notification: bool = False
    deleted: bool = False
    edit_date: int | None = None
    edits: list[EmuRevision] = field(default_factory=list)
    """Previous states, oldest first; ``len(edits)`` is the number of edits."""
    seq: int = 0
    """Emulator-wide change counter at the last create/edit/delete (orders ``wait_for``)."""
    created_seq: int = 0
    media: JSON | None = None
    """A non-text message's own fields (sticker, photo, location...); text is its caption."""
    thread_id: int | None = None
    """Forum topic (message_thread_id) the message is in; None = General / no forum."""

    @property
    def buttons(self) -> list[list[str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[str(b.get("text", "")) for b in row] for row in rows]

    def _all_buttons(self) -> list[JSON]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def find_button(self, label: str) -> JSON | None:
        """Button whose text equals (preferred) or contains `label`, case-insensitively."""
        wanted = label.casefold()
        buttons = self._all_buttons()
        exact = [b for b in buttons if str(b.get("text", "")).casefold() == wanted]
        if exact:
            return exact[0]
        partial = [b for b in buttons if wanted in str(b.get("text", "")).casefold()]
        if len(partial) > 1:
            names = ", ".join(repr(b.get("text")) for b in partial)
            raise AssertionError(f"button label {label!r} is ambiguous: {names}")
        return partial[0] if partial else None

    def button(self, label: str) -> JSON:
        found = self.find_button(label)
        if found is None:
            raise AssertionError(
                f"no button matching {label!r} on message #{self.message_id}; "
                f"buttons: {self.buttons}\n{self.chat.transcript()}"
            )
        return found

    def _snapshot(self) -> EmuRevision:
        return EmuRevision(self.text, self.html, self.reply_markup, self.edit_date or self.date)

    def to_api(self, *, with_reply: bool = True) -> JSON:
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if with_reply and self.reply_to is not None:
            replied = self.chat.message(self.reply_to)
            if replied is not None:
                # Telegram nests only one level of reply_to_message.
                data["reply_to_message"] = replied.to_api(with_reply=False)
        if self.document is not None:
            data["document"] = self.document.to_api()
            if self.text:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = self.entities
        elif self.media is not None:
            data.update(self.media)
            if self.text:
                data["caption"] = self.text
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.link_preview_options:
            data["link_preview_options"] = self.link_preview_options
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data


@dataclass
class CallbackResult:
    """A button press and the bot's answerCallbackQuery (if any yet)."""

    id: str
    data: str
    message_id: int
    user_id: int
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    seq: int = 0


@dataclass
class EmuRequest:
    method: str
    params: JSON
    chat_id: int | str | None
    at: float
    status: int = 200
    description: str | None = None


@dataclass
class _Update:
    id: int
    kind: str
    payload: JSON
    chat: EmuChat | None
    delivered: bool = False

    def to_api(self) -> JSON:
        return {"update_id": self.id, self.kind: self.payload}


class _Signal:
    """Wakes every waiter on each change; waiters re-check their own condition.

    The event is created lazily so the emulator can be constructed outside a loop.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def fire(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, timeout: float) -> None:
        if timeout <= 0:
            return
        if self._event is None:
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()


class EmuChat(GroupChatMixin):
    """A private chat or (super)group, seen from the test (user) side."""

    def __init__(
        self,
        emu: TelegramEmulator,
        chat_id: int,
        kind: str,
        *,
        user: EmuUser | None = None,
        title: str | None = None,
        admins: Iterable[EmuUser] = (),
        members: Iterable[EmuUser] = (),
        bot_admin: bool = True,
        forum: bool = False,
    ) -> None:
        self._init_groups(forum=forum)
        self.emu = emu
        self.id = chat_id
        self.type = kind
        self.user = user
        self.title = title
        self.admins = list(admins)
        self.members = list(members)
        self.bot_admin = bot_admin
        self.bot_left = False
        self.blocked = False
        self.messages: list[EmuMessage] = []
        self.callbacks: list[CallbackResult] = []
        self.actions: list[str] = []
        self.reply_keyboard: list[list[str]] | None = None
        self.menu_button: JSON | None = None
        self._next_message_id = 1
        self._mark = 0
        self._last_activity = 0.0
        self._flood_left = 0
        self._flood_retry = 0
        self._delay = 0.0
        self._refusals: list[tuple[str, str, Callable[[JSON], bool] | None]] = []

    def __repr__(self) -> str:
        return f"EmuChat(id={self.id}, type={self.type!r})"

    # -- api shape -------------------------------------------------------------
    def to_api(self) -> JSON:
        if self.type == "private" and self.user is not None:
            data = {k: v for k, v in self.user.to_api().items() if k in _CHAT_USER_KEYS}
            data["type"] = "private"
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.is_forum:
            data["is_forum"] = True
        return data

    # -- fault controls --------------------------------------------------------
    def block(self) -> None:
        """Every send/edit to this chat now answers 403 (user blocked / bot kicked)."""
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    def flood(self, retry_after: int = 2, count: int = 3) -> None:
        self.emu.flood(self.id, retry_after=retry_after, count=count)

    def slow(self, seconds: float) -> None:
        self.emu.slow(self.id, seconds)

    def refuse(self, description: str, *, method: str = "sendMessage",
               when: Callable[[JSON], bool] | None = None) -> None:
        """Every `method` call to this chat (those whose parameters match `when`) is
        answered 400 `description`: a request Telegram finds invalid, for good."""
        self._refusals.append((method.lower(), description, when))

    # -- reading ---------------------------------------------------------------
    @property
    def bot_messages(self) -> list[EmuMessage]:
        return [m for m in self.messages if m.from_bot and not m.deleted]

    @property
    def last(self) -> EmuMessage:
        """Newest live bot message (AssertionError with the transcript if none)."""
        msgs = self.bot_messages
        if not msgs:
            raise AssertionError(f"the bot has sent nothing to chat {self.id}\n{self.transcript()}")
        return msgs[-1]

    def message(self, message_id: int) -> EmuMessage | None:
        for msg in self.messages:
            if msg.message_id == message_id:
                return msg
        return None

    def mark(self) -> None:
        """Make ``wait_for`` ignore bot messages not created/edited after this point."""
        self._mark = self.emu._seq

    # -- acting ----------------------------------------------------------------
    def _default_user(self, user: EmuUser | None) -> EmuUser:
        if user is not None:
            return user
        if self.user is not None:
            return self.user
        if self.admins:
            return self.admins[0]
        if self.members:
            return self.members[0]
        raise AssertionError(f"chat {self.id} has no users to act as")

    async def send(
        self, text: str, user: EmuUser | None = None, *, reply_to: int | None = None,
        thread: int | None = None,
    ) -> EmuMessage:
        """The user types `text`; commands get a bot_command entity, @names a mention.
        `thread`: a forum topic id (like Telegram, a non-reply there replies to the
        topic's creation message)."""
        sender = self._default_user(user)
        entities = auto_entities(text)
        if thread is not None and thread not in self.topics:
            raise AssertionError(f"chat {self.id} has no topic {thread}")
        msg = self.emu._new_message(
            self, sender.to_api(), from_bot=False, text=text, entities=entities,
            reply_to=reply_to if reply_to is not None else thread,
        )
        msg.thread_id = thread
        self._user_acted()
        self.emu._enqueue("message", msg.to_api(), self)
        await asyncio.sleep(0)
        return msg

    async def send_document(
        self,
        filename: str,
        data: bytes,
        *,
        caption: str = "",
        user: EmuUser | None = None,
        mime_type: str | None = None,
    ) -> EmuMessage:
        """The user uploads a file (retrievable by the bot via getFile + download)."""
        sender = self._default_user(user)
        doc = self.emu._store_file(filename, data, mime_type)
        msg = self.emu._new_message(self, sender.to_api(), from_bot=False, text=caption)
        msg.document = doc
        self._user_acted()
        self.emu._enqueue("message", msg.to_api(), self)
        await asyncio.sleep(0)
        return msg

    async def send_media(
        self,
        kind: str,
        *,
        caption: str = "",
        user: EmuUser | None = None,
        reply_to: int | None = None,
    ) -> EmuMessage:
        """The user sends a non-text message: one of MEDIA_KINDS (sticker, photo, voice,
        location, contact, dice, video_note, animation, audio, video, venue)."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; known: {sorted(MEDIA_KINDS)}")
        sender = self._default_user(user)
        msg = self.emu._new_message(self, sender.to_api(), from_bot=False, text=caption,
                                    reply_to=reply_to)
        msg.media = json.loads(json.dumps(MEDIA_KINDS[kind]))
        self._user_acted()
        self.emu._enqueue("message", msg.to_api(), self)
        await asyncio.sleep(0)
        return msg

    async def press(
        self,
        label: str,
        *,
        message: EmuMessage | None = None,
        user: EmuUser | None = None,
        timeout: float = 15.0,
    ) -> CallbackResult:
        """Press the inline button matching `label` and wait for answerCallbackQuery.

        Without `message`, the newest live bot message that has such a button is used.
        """
        if message is None:
            for candidate in reversed(self.bot_messages):
                if candidate.find_button(label) is not None:
                    message = candidate
                    break
            else:
                available = [m.buttons for m in self.bot_messages if m.reply_markup]
                raise AssertionError(
                    f"no bot message in chat {self.id} has a button matching {label!r}; "
                    f"available: {available}\n{self.transcript()}"
                )
        if message.deleted:
            raise AssertionError(f"message #{message.message_id} is deleted\n{self.transcript()}")
        button = message.button(label)
        if "callback_data" not in button:
            raise AssertionError(
                f"button {button.get('text')!r} is not a callback button: {button}"
            )
        return await self.press_data(
            str(button["callback_data"]), message.message_id, user=user, timeout=timeout
        )

    async def press_data(
        self,
        callback_data: str,
        message_id: int,
        user: EmuUser | None = None,
        *,
        timeout: float = 15.0,
    ) -> CallbackResult:
        """Raw (possibly forged) press: any data, any message id."""
        sender = self._default_user(user)
        emu = self.emu
        result = CallbackResult(
            id=str(next(emu._callback_ids)),
            data=callback_data,
            message_id=message_id,
            user_id=sender.id,
            seq=emu._bump(),
        )
        emu.callbacks[result.id] = result
        self.callbacks.append(result)
        target = self.message(message_id)
        if target is not None and not target.deleted:
            message: JSON = target.to_api()
        else:
            # What Telegram sends for a message the bot can no longer access.
            message = {"chat": self.to_api(), "message_id": message_id, "date": 0}
        payload: JSON = {
            "id": result.id,
            "from": sender.to_api(),
            "message": message,
            "chat_instance": str(abs(self.id) * 31 + 7),
            "data": callback_data,
        }
        self._user_acted()
        emu._enqueue("callback_query", payload, self)
        answered = await emu._wait_until(lambda: result if result.answered else None, timeout)
        if answered is None:
            raise AssertionError(
                f"bot did not answer callback query {callback_data!r} within {timeout}s\n"
                f"{self.transcript()}"
            )
        return answered

    def _user_acted(self) -> None:
        self._mark = self.emu._seq
        self._touch()

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    # -- waiting ---------------------------------------------------------------
    async def wait_for(
        self, predicate: Callable[[EmuMessage], bool] | str, *, timeout: float = 15.0,
        thread: int | None = None,
    ) -> EmuMessage:
        """Wait for a bot message created/edited since the last user action to match.

        A str predicate means "plain text contains" (case-sensitive). `thread`: only
        messages in that forum topic (0: only those outside any topic).
        """
        check: Callable[[EmuMessage], bool]
        if isinstance(predicate, str):
            needle = predicate
            check = lambda msg: needle in msg.text  # noqa: E731
            what = f"text containing {needle!r}"
        else:
            check = predicate
            what = getattr(predicate, "__name__", "predicate")

        def find() -> EmuMessage | None:
            fresh = [m for m in self.bot_messages if m.seq > self._mark
                     and (thread is None or (m.thread_id or 0) == thread)]
            for msg in sorted(fresh, key=lambda m: m.seq):
                if check(msg):
                    return msg
            return None

        found = await self.emu._wait_until(find, timeout)
        if found is None:
            raise AssertionError(
                f"no bot message matched {what} within {timeout}s\n{self.transcript()}"
            )
        return found

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 15.0) -> None:
        """Wait until updates for this chat are delivered and the bot has not made a
        request touching it for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            pending = any(u.chat is self and not u.delivered for u in self.emu._updates)
            remaining = self._last_activity + quiet - now
            if not pending and remaining <= 0:
                return
            if now >= deadline:
                why = "updates not fetched by the bot" if pending else "bot still busy"
                raise AssertionError(
                    f"chat {self.id} not idle after {timeout}s ({why})\n{self.transcript()}"
                )
            if pending:
                await self.emu._changed.wait(deadline - now)
            else:
                await asyncio.sleep(min(remaining, deadline - now))

    # -- reading for humans ----------------------------------------------------
    def transcript(self) -> str:
        """Human-readable dump: who said what, buttons, edits, deletions, presses."""
        title = self.title or (self.user.first_name if self.user else "")
        lines = [f"--- chat {self.id} ({self.type} {title}) ---"]
        events: list[tuple[int, EmuMessage | CallbackResult]] = []
        events += [(m.created_seq, m) for m in self.messages]
        events += [(c.seq, c) for c in self.callbacks]
        for _, event in sorted(events, key=lambda e: e[0]):
            if isinstance(event, CallbackResult):
                answer = "(unanswered)"
                if event.answered:
                    answer = f"→ {event.text!r}" + (" [alert]" if event.show_alert else "")
                lines.append(f"    * pressed data={event.data!r} on #{event.message_id} {answer}")
                continue
            lines.extend(_describe(event))
        if self.reply_keyboard:
            lines.append(f"    reply keyboard: {self.reply_keyboard}")
        return "\n".join(lines)


def _file(unique: str, **extra: Any) -> JSON:
    return {"file_id": f"AgACAgIAAxkBAAI{unique}", "file_unique_id": f"AQAD{unique}", **extra}


# What Telegram sends for each kind of non-text message (the fields aiogram needs).
MEDIA_KINDS: dict[str, JSON] = {
    "sticker": {"sticker": _file("stk1", type="regular", width=512, height=512,
                                 is_animated=False, is_video=False, emoji="🐨")},
    "photo": {"photo": [_file("ph1", width=90, height=90), _file("ph2", width=800, height=800)]},
    "voice": {"voice": _file("vc1", duration=3, mime_type="audio/ogg")},
    "audio": {"audio": _file("au1", duration=120, title="Song")},
    "video": {"video": _file("vd1", width=640, height=360, duration=5)},
    "video_note": {"video_note": _file("vn1", length=240, duration=4)},
    "animation": {"animation": _file("an1", width=320, height=240, duration=2)},
    "location": {"location": {"latitude": 55.7558, "longitude": 37.6173}},
    "venue": {"venue": {"location": {"latitude": 55.7558, "longitude": 37.6173},
                        "title": "Red Square", "address": "Moscow"}},
    "contact": {"contact": {"phone_number": "+79991234567", "first_name": "Bob"}},
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
}

_CHAT_USER_KEYS = frozenset({"id", "first_name", "last_name", "username"})


def _describe(msg: EmuMessage) -> list[str]:
    who = "bot" if msg.from_bot else str(msg.sender.get("first_name", msg.sender.get("id")))
    flags = []
    if msg.reply_to is not None:
        flags.append(f"reply to #{msg.reply_to}")
    if msg.edits:
        flags.append(f"edited x{len(msg.edits)}")
    if msg.deleted:
        flags.append("DELETED")
    head = f"[#{msg.message_id}] {who}" + (f" ({', '.join(flags)})" if flags else "") + ":"
    service = f"<{', '.join(msg.media)}>" if msg.media and not msg.text else ""
    body = (msg.text or service).replace("\n", "\n      ")
    lines = [f"{head} {body}"]
    if msg.document is not None:
        lines.append(f"      📎 {msg.document.filename} ({len(msg.document.data)} bytes)")
    for row in (msg.reply_markup or {}).get("inline_keyboard", []):
        lines.append("      " + " ".join(f"[{b.get('text')}]" for b in row))
    for old in msg.edits:
        lines.append(f"      (was: {old.text!r})")
    return lines


# --------------------------------------------------------------------------- server


class _Params:
    """Request parameters with Telegram-style coercion of form strings."""

    def __init__(self, values: JSON, uploads: dict[str, EmuDocument], token: str) -> None:
        self.values = values
        self.uploads = uploads
        self.token = token

    def has(self, key: str) -> bool:
        return self.values.get(key) not in (None, "")

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return default if value is None else str(value)

    def integer(self, key: str) -> int | None:
        value = self.values.get(key)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {key} specified") from None

    def need_int(self, key: str) -> int:
        value = self.integer(key)
        if value is None:
            raise _bad(f"{key} is empty")
        return value

    def flag(self, key: str) -> bool:
        value = self.values.get(key)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def obj(self, key: str) -> Any:
        value = self.values.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return _drop_none(json.loads(value))
            except ValueError:
                what = "reply keyboard markup" if key == "reply_markup" else key
                raise _bad(f"can't parse {what} JSON object") from None
        return _drop_none(value)


class TelegramEmulator(GroupEmulatorMixin):
    """Bot API server + emulated users and chats. See the module docstring."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token and token[0].isdigit() else 0
        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.callbacks: dict[str, CallbackResult] = {}
        self.requests: list[EmuRequest] = []
        self.files: dict[str, EmuDocument] = {}
        self.commands_store: dict[tuple[str, str], list[JSON]] = {}
        self.default_menu_button: JSON = {"type": "commands"}
        self.webhook_url = ""
        self.url: str | None = None
        self._updates: list[_Update] = []
        self._allowed: frozenset[str] = _DEFAULT_UPDATES
        self.privacy_mode = False  # opt-in; see GroupEmulatorMixin._bot_sees
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(100000001)
        self._group_ids = itertools.count(1000000001)
        self._callback_ids = itertools.count(4000000000000000001)
        self._file_ids = itertools.count(1)
        self._seq = 0
        self._changed = _Signal()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {
            name[5:].lower(): (name[5:], getattr(self, name))
            for name in dir(self)
            if name.startswith("_api_")
        }

    # -- lifecycle -------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 = any free port); returns the base URL for the bot."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # handler_cancellation: a client abandoning a long poll must free its handler;
        # short shutdown_timeout: stop() must not wait on idle keep-alive connections.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.url = f"http://{host}:{bound_port}"
        self._closing = False
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._changed.fire()  # release long polls so shutdown is immediate
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> TelegramEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- world building --------------------------------------------------------
    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Alice",
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> EmuUser:
        uid = user_id if user_id is not None else next(self._user_ids)
        user = EmuUser(uid, first_name, language_code, username, last_name)
        self.users[uid] = user
        return user

    def private_chat(self, user: EmuUser) -> EmuChat:
        """The user's private chat with the bot (created on first use)."""
        self.users.setdefault(user.id, user)
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = EmuChat(self, user.id, "private", user=user)
        return chat

    def add_group(
        self,
        title: str = "Team",
        admins: Iterable[EmuUser] = (),
        members: Iterable[EmuUser] = (),
        *,
        bot_admin: bool = True,
        chat_id: int | None = None,
        kind: str = "supergroup",
        forum: bool = False,
    ) -> EmuChat:
        """A supergroup (kind="group": a basic group; forum=True: with topics);
        the first admin is its creator."""
        base = 1000000000000 if kind == "supergroup" else 4000000000
        gid = chat_id if chat_id is not None else -(base + next(self._group_ids))
        chat = EmuChat(
            self,
            gid,
            kind,
            title=title,
            admins=admins,
            members=members,
            bot_admin=bot_admin,
            forum=forum,
        )
        for user in [*chat.admins, *chat.members]:
            self.users.setdefault(user.id, user)
        self.chats[gid] = chat
        return chat

    def chat(self, chat_id: int) -> EmuChat:
        return self.chats[chat_id]

    # -- fault controls --------------------------------------------------------
    def flood(self, chat_id: int | EmuChat, retry_after: int = 2, count: int = 3) -> None:
        """The next `count` sends/edits to the chat answer 429 with `retry_after`."""
        chat = chat_id if isinstance(chat_id, EmuChat) else self.chats[chat_id]
        chat._flood_left = count
        chat._flood_retry = retry_after

    def slow(self, chat_id: int | EmuChat, seconds: float) -> None:
        """Delay every send/edit to the chat by `seconds` (0 turns it off)."""
        chat = chat_id if isinstance(chat_id, EmuChat) else self.chats[chat_id]
        chat._delay = seconds

    # -- inspection ------------------------------------------------------------
    def calls(self, method: str, chat_id: int | None = None) -> list[EmuRequest]:
        """Logged requests for `method` (case-insensitive), optionally for one chat."""
        wanted = method.lower()
        return [
            r
            for r in self.requests
            if r.method.lower() == wanted and (chat_id is None or r.chat_id == chat_id)
        ]

    def count(self, method: str, chat_id: int | None = None) -> int:
        return len(self.calls(method, chat_id))

    async def wait_request(
        self, method: str, *, count: int = 1, timeout: float = 15.0
    ) -> EmuRequest:
        """Wait until `method` has been called `count` times; returns that call.

        E.g. ``await emu.wait_request("getUpdates")`` = the bot has started polling.
        """

        def check() -> EmuRequest | None:
            calls = self.calls(method)
            return calls[count - 1] if len(calls) >= count else None

        found = await self._wait_until(check, timeout)
        if found is None:
            raise AssertionError(f"{method} was called {self.count(method)}/{count} times")
        return found

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return self.commands_store.get((_scope_key(scope), language_code), [])

    @property
    def pending_updates(self) -> list[JSON]:
        return [u.to_api() for u in self._updates]

    async def wait_change(self, timeout: float) -> None:
        """Return at the next change (a message, an edit, a request served, a callback
        answered) or after `timeout` seconds: for watchers such as the playground page."""
        await self._changed.wait(timeout)

    # -- internals shared with EmuChat -----------------------------------------
    def _bump(self) -> int:
        self._seq += 1
        return self._seq

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id or DEFAULT_BOT_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _new_message(
        self,
        chat: EmuChat,
        sender: JSON,
        *,
        from_bot: bool,
        text: str = "",
        html: str | None = None,
        entities: list[JSON] | None = None,
        reply_markup: JSON | None = None,
        reply_to: int | None = None,
    ) -> EmuMessage:
        msg = EmuMessage(
            chat=chat,
            message_id=chat._next_message_id,
            date=int(time.time()),
            sender=sender,
            from_bot=from_bot,
            text=text,
            html=html,
            entities=entities or [],
            reply_markup=reply_markup,
            reply_to=reply_to,
            seq=self._bump(),
        )
        msg.created_seq = msg.seq
        chat._next_message_id += 1
        chat.messages.append(msg)
        self._changed.fire()
        return msg

    def _store_file(self, filename: str, data: bytes, mime_type: str | None) -> EmuDocument:
        n = next(self._file_ids)
        doc = EmuDocument(f"BQACAgIAAxkBAAI{n:08d}", f"AgAD{n:06d}", filename, data, mime_type)
        self.files[doc.file_id] = doc
        return doc

    def _enqueue(self, kind: str, payload: JSON, chat: EmuChat | None) -> None:
        if not self._bot_sees(kind, payload, chat):
            return  # privacy mode: Telegram never sends it to the bot
        self._updates.append(_Update(next(self._update_ids), kind, payload, chat))
        self._changed.fire()

    async def _wait_until(self, check: Callable[[], T | None], timeout: float) -> T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._changed.wait(remaining)

    # -- HTTP ------------------------------------------------------------------
    @staticmethod
    def _reply(result: Any = None, error: _ApiError | None = None) -> web.Response:
        if error is None:
            return web.json_response({"ok": True, "result": result})
        body: JSON = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None or error.parameters:
            retry = {} if error.retry_after is None else {"retry_after": error.retry_after}
            body["parameters"] = {**retry, **(error.parameters or {})}
        return web.json_response(body, status=error.code)

    def _authorized(self, token: str) -> bool:
        if self.token is not None:
            return token == self.token
        prefix = token.split(":", 1)[0]
        if prefix.isdigit():
            self.bot_id = int(prefix)
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not self._authorized(token):
            return self._reply(error=_ApiError(401, "Unauthorized"))
        try:
            params = await self._read_params(request, token)
        except _ApiError as exc:
            return self._reply(error=exc)
        raw_method = request.match_info["method"]
        name, handler = self._methods.get(raw_method.lower(), (raw_method, _unknown_method))
        chat_id: Any = params.values.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)
        entry = EmuRequest(name, {**params.values, **params.uploads}, chat_id, time.time())
        self.requests.append(entry)
        self._changed.fire()  # wakes wait_request() before a long poll finishes
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None:
            chat._touch()
        try:
            if chat is not None and name.lower() in _SEND_METHODS:
                await self._guard(chat, name.lower())
            if chat is not None:
                for method, description, when in chat._refusals:
                    if method == name.lower() and (when is None or when(params.values)):
                        raise _ApiError(400, description)
            result = await handler(params)
        except _ApiError as exc:
            entry.status, entry.description = exc.code, exc.description
            return self._reply(error=exc)
        finally:
            if chat is not None:
                chat._touch()
            self._changed.fire()
        return self._reply(result)

    async def _read_params(self, request: web.Request, token: str) -> _Params:
        values: JSON = dict(request.query)
        uploads: dict[str, EmuDocument] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                try:
                    data = json.loads(body)
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(data, dict):
                    raise _bad("can't parse JSON object")
                values.update(data)
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data_bytes = value.file.read()
                    uploads[key] = EmuDocument(
                        "", "", value.filename, data_bytes, value.content_type
                    )
                elif isinstance(value, bytes):
                    values[key] = value.decode()
                else:
                    values[key] = value
        return _Params(values, uploads, token)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request.match_info["token"]):
            return self._reply(error=_ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for doc in self.files.values():
            if doc.file_path == path:
                return web.Response(body=doc.data, content_type="application/octet-stream")
        return self._reply(error=_ApiError(404, "Not Found"))

    async def _guard(self, chat: EmuChat, method: str = "") -> None:
        """Fault injection for message-producing calls, in Telegram's order of effect."""
        if chat._delay > 0:
            await asyncio.sleep(chat._delay)
        self._usable(chat)
        self._group_guard(chat, method)
        if chat.bot_left:
            raise _ApiError(403, NOT_MEMBER)
        if chat.blocked:
            raise _ApiError(403, BLOCKED if chat.type == "private" else KICKED)
        if chat._flood_left > 0:
            chat._flood_left -= 1
            retry = chat._flood_retry
            raise _ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def _chat(self, p: _Params, key: str = "chat_id") -> EmuChat:
        raw = p.values.get(key)
        if raw in (None, ""):
            raise _bad(f"{key} is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for known in self.chats.values():
                if known.user is not None and known.user.username == raw[1:]:
                    return known
            raise _ApiError(400, CHAT_NOT_FOUND)
        chat_id = p.need_int(key)
        chat = self.chats.get(chat_id)
        if chat is None and chat_id in self.users:
            chat = self.private_chat(self.users[chat_id])
        if chat is None:
            raise _ApiError(400, CHAT_NOT_FOUND)
        return self._usable(chat)

    def _text(self, p: _Params, key: str, entities_key: str) -> tuple[str, str | None, list[JSON]]:
        """(plain, html-or-None, entities) for a text/caption parameter."""
        source = p.string(key, "") or ""
        parse_mode = (p.string("parse_mode") or "").lower()
        if parse_mode == "html":
            plain, entities = parse_html(source)
            return plain, source, entities
        # Markdown modes are stored verbatim (not rendered); explicit entities kept.
        given = p.obj(entities_key)
        return source, None, given if isinstance(given, list) else []

    def _markup(self, p: _Params, chat: EmuChat) -> JSON | None:
        """Validated inline keyboard (None if absent); reply keyboards update the chat."""
        raw = p.obj("reply_markup")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse inline keyboard markup JSON object")
            for row in rows:
                for button in row:
                    _check_button(button)
            return raw if any(rows) else None
        if "keyboard" in raw:
            rows = raw["keyboard"]
            chat.reply_keyboard = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows
            ]
        elif raw.get("remove_keyboard"):
            chat.reply_keyboard = None
        return None

    def _reply_target(self, p: _Params, chat: EmuChat) -> int | None:
        params = p.obj("reply_parameters")
        reply_id = p.integer("reply_to_message_id")
        allow_missing = p.flag("allow_sending_without_reply")
        if isinstance(params, dict) and "message_id" in params:
            reply_id = int(params["message_id"])
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        if reply_id is None:
            return None
        target = chat.message(reply_id)
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise _bad("message to be replied not found")
        return reply_id

    def _bot_message(self, p: _Params, chat: EmuChat) -> EmuMessage:
        if p.has("inline_message_id"):
            raise _ApiError(400, EDIT_NOT_FOUND)
        msg = chat.message(p.need_int("message_id"))
        if msg is None or msg.deleted or not msg.from_bot:
            raise _ApiError(400, EDIT_NOT_FOUND)
        return msg

    def _apply_edit(
        self,
        msg: EmuMessage,
        text: str,
        html: str | None,
        entities: list[JSON],
        markup: JSON | None,
    ) -> JSON:
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise _ApiError(400, NOT_MODIFIED)
        msg.edits.append(msg._snapshot())
        msg.text, msg.html, msg.entities, msg.reply_markup = text, html, entities, markup
        msg.edit_date = int(time.time())
        msg.seq = self._bump()
        return msg.to_api()

    # -- Bot API methods (name after "_api_" is the Bot API method name) -------
    async def _api_getMe(self, p: _Params) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_logOut(self, p: _Params) -> bool:
        return True

    async def _api_close(self, p: _Params) -> bool:
        return True

    async def _api_getUpdates(self, p: _Params) -> list[JSON]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.integer("offset")
        limit = min(max(p.integer("limit") or 100, 1), 100)
        timeout = max(p.integer("timeout") or 0, 0)
        allowed = p.obj("allowed_updates")
        if isinstance(allowed, list):
            # Like Telegram, the setting persists; an empty list restores the default.
            self._allowed = frozenset(allowed) or _DEFAULT_UPDATES

        def ready() -> list[_Update] | None:
            if offset is not None and offset > 0:
                # Confirmation: anything below offset is gone for good.
                self._updates = [u for u in self._updates if u.id >= offset]
            self._updates = [u for u in self._updates if u.kind in self._allowed]
            batch = self._updates[:limit]
            return batch or None

        if timeout > 0 and not self._closing:
            # Long poll: stop() releases waiters with an empty batch.
            batch = await self._wait_until(
                lambda: ready() or ([] if self._closing else None), float(timeout)
            )
        else:
            batch = ready()
        for update in batch or []:
            update.delivered = True
        return [u.to_api() for u in batch or []]

    async def _api_setWebhook(self, p: _Params) -> bool:
        self.webhook_url = p.string("url", "") or ""
        return True

    async def _api_deleteWebhook(self, p: _Params) -> bool:
        self.webhook_url = ""
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_getWebhookInfo(self, p: _Params) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _api_sendMessage(self, p: _Params) -> JSON:
        chat = self._chat(p)
        text, html, entities = self._text(p, "text", "entities")
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > 4096:
            raise _bad("message is too long")
        markup = self._markup(p, chat)
        reply_to = self._reply_target(p, chat)
        thread = self._thread(p, chat)
        msg = self._new_message(
            chat,
            self._bot_user(),
            from_bot=True,
            text=text,
            html=html,
            entities=entities,
            reply_markup=markup,
            reply_to=reply_to if reply_to is not None else thread,
        )
        msg.thread_id = thread
        preview = p.obj("link_preview_options")
        msg.link_preview_options = preview if isinstance(preview, dict) else None
        msg.disable_notification = p.flag("disable_notification")
        return msg.to_api()

    async def _api_sendDocument(self, p: _Params) -> JSON:
        chat = self._chat(p)
        doc = self._input_file(p, "document")
        caption, html, entities = self._text(p, "caption", "caption_entities")
        if len(caption) > 1024:
            raise _bad("message caption is too long")
        markup = self._markup(p, chat)
        reply_to = self._reply_target(p, chat)
        thread = self._thread(p, chat)
        msg = self._new_message(
            chat,
            self._bot_user(),
            from_bot=True,
            text=caption,
            html=html,
            entities=entities,
            reply_markup=markup,
            reply_to=reply_to if reply_to is not None else thread,
        )
        msg.thread_id = thread
        msg.document = doc
        msg.disable_notification = p.flag("disable_notification")
        return msg.to_api()

    def _input_file(self, p: _Params, key: str) -> EmuDocument:
        value = p.values.get(key)
        upload = p.uploads.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = p.uploads.get(value.removeprefix("attach://"))
        if upload is not None:
            return self._store_file(upload.filename, upload.data, upload.mime_type)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rstrip("/").rsplit("/", 1)[-1] or "file"
            return self._store_file(name, b"", None)
        raise _bad("wrong file identifier/HTTP URL specified")

    async def _api_getFile(self, p: _Params) -> JSON:
        doc = self.files.get(p.string("file_id", "") or "")
        if doc is None:
            raise _bad("invalid file_id")
        return {
            "file_id": doc.file_id,
            "file_unique_id": doc.file_unique_id,
            "file_size": len(doc.data),
            "file_path": doc.file_path,
        }

    async def _api_editMessageText(self, p: _Params) -> JSON:
        chat = self._chat(p)
        msg = self._bot_message(p, chat)
        if msg.document is not None:
            raise _bad("there is no text in the message to edit")
        text, html, entities = self._text(p, "text", "entities")
        if not text.strip():
            raise _bad("message text is empty")
        if len(text) > 4096:
            raise _bad("message is too long")
        markup = self._markup(p, chat)
        result = self._apply_edit(msg, text, html, entities, markup)
        preview = p.obj("link_preview_options")
        if isinstance(preview, dict):
            msg.link_preview_options = preview
        return result

    async def _api_editMessageCaption(self, p: _Params) -> JSON:
        chat = self._chat(p)
        msg = self._bot_message(p, chat)
        if msg.document is None:
            raise _bad("there is no caption in the message to edit")
        caption, html, entities = self._text(p, "caption", "caption_entities")
        if len(caption) > 1024:
            raise _bad("message caption is too long")
        return self._apply_edit(msg, caption, html, entities, self._markup(p, chat))

    async def _api_editMessageReplyMarkup(self, p: _Params) -> JSON:
        chat = self._chat(p)
        msg = self._bot_message(p, chat)
        markup = self._markup(p, chat)
        return self._apply_edit(msg, msg.text, msg.html, msg.entities, markup)

    def _delete(self, chat: EmuChat, message_id: int) -> None:
        msg = chat.message(message_id)
        if msg is None or msg.deleted:
            raise _ApiError(400, DELETE_NOT_FOUND)
        if chat.type != "private" and not msg.from_bot and not chat.bot_admin:
            raise _bad("message can't be deleted")
        msg.deleted = True
        msg.seq = self._bump()

    async def _api_deleteMessage(self, p: _Params) -> bool:
        self._delete(self._chat(p), p.need_int("message_id"))
        return True

    async def _api_deleteMessages(self, p: _Params) -> bool:
        chat = self._chat(p)
        ids = p.obj("message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad("message_ids is empty")
        for message_id in ids:
            # The plural form silently skips messages that are already gone.
            with contextlib.suppress(_ApiError):
                self._delete(chat, int(message_id))
        return True

    async def _api_answerCallbackQuery(self, p: _Params) -> bool:
        result = self.callbacks.get(p.string("callback_query_id", "") or "")
        if result is None or result.answered:
            raise _ApiError(400, QUERY_TOO_OLD)
        if len(p.string("text", "") or "") > CALLBACK_TEXT_LIMIT:
            raise _bad("MESSAGE_TOO_LONG")  # what Telegram answers; the query stays open
        result.answered = True
        result.text = p.string("text")
        result.show_alert = p.flag("show_alert")
        result.url = p.string("url")
        return True

    async def _api_sendChatAction(self, p: _Params) -> bool:
        chat = self._chat(p)
        self._group_guard(chat, "sendchataction")
        if chat.blocked:
            raise _ApiError(403, BLOCKED if chat.type == "private" else KICKED)
        chat.actions.append(p.string("action", "") or "")
        return True

    async def _api_setMyCommands(self, p: _Params) -> bool:
        commands = p.obj("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            valid = name.replace("_", "").isalnum() and name.lower() == name
            if not (1 <= len(name) <= 32 and valid and name.isascii()):
                raise _bad("BOT_COMMAND_INVALID")
        key = (_scope_key(p.obj("scope")), p.string("language_code", "") or "")
        self.commands_store[key] = commands
        return True

    async def _api_getMyCommands(self, p: _Params) -> list[JSON]:
        return self.commands(p.obj("scope"), p.string("language_code", "") or "")

    async def _api_deleteMyCommands(self, p: _Params) -> bool:
        key = (_scope_key(p.obj("scope")), p.string("language_code", "") or "")
        self.commands_store.pop(key, None)
        return True

    async def _api_setChatMenuButton(self, p: _Params) -> bool:
        button = p.obj("menu_button") or {"type": "default"}
        if p.has("chat_id"):
            self._chat(p).menu_button = button
        else:
            self.default_menu_button = button
        return True

    async def _api_getChatMenuButton(self, p: _Params) -> JSON:
        if p.has("chat_id"):
            return self._chat(p).menu_button or self.default_menu_button
        return self.default_menu_button

    async def _api_getChat(self, p: _Params) -> JSON:
        chat = self._chat(p)
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_getChatMember(self, p: _Params) -> JSON:
        chat = self._chat(p)
        user_id = p.need_int("user_id")
        if user_id not in self.users and user_id != (self.bot_id or DEFAULT_BOT_ID):
            raise _bad("user not found")
        return self._member(chat, user_id)

    async def _api_getChatAdministrators(self, p: _Params) -> list[JSON]:
        chat = self._chat(p)
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        admins = [self._member(chat, a.id) for a in chat.admins]
        if chat.bot_admin and not chat.bot_left:
            admins.append(self._member(chat, self.bot_id or DEFAULT_BOT_ID))
        return admins

    async def _api_getChatMemberCount(self, p: _Params) -> int:
        chat = self._chat(p)
        if chat.type == "private":
            return 2
        people = {u.id for u in [*chat.admins, *chat.members]}
        return len(people) + (0 if chat.bot_left else 1)

    async def _api_leaveChat(self, p: _Params) -> bool:
        chat = self._chat(p)
        if chat.type == "private":
            raise _bad("chat member status can't be changed in private chats")
        chat.bot_left = True
        return True

    # Accepted and logged only: nothing observable to emulate.
    async def _api_setMyDescription(self, p: _Params) -> bool:
        return True

    async def _api_setMyShortDescription(self, p: _Params) -> bool:
        return True

    async def _api_setMyName(self, p: _Params) -> bool:
        return True

    async def _api_pinChatMessage(self, p: _Params) -> bool:
        self._chat(p)
        return True

    async def _api_unpinChatMessage(self, p: _Params) -> bool:
        self._chat(p)
        return True


async def _unknown_method(p: _Params) -> Any:
    raise _ApiError(404, "Not Found")


def _scope_key(scope: Any) -> str:
    if not isinstance(scope, dict) or scope.get("type", "default") == "default":
        return "default"
    return json.dumps(scope, sort_keys=True)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    kinds = [k for k in _INLINE_BUTTON_KINDS if k in button]
    if not kinds:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if "copy_text" in button:
        copy = button["copy_text"]
        text = copy.get("text") if isinstance(copy, dict) else None
        if not isinstance(text, str) or not 1 <= len(text) <= 256:
            raise _bad("COPY_TEXT_INVALID")

