"""Group parts of the Telegram emulator: roles, membership updates, the bot joining and
leaving, basic-group migration, forum topics, deep links, the per-group rate limit.

Mixed into :class:`bot.sandbox.telegram.EmuChat` (test-side controls) and
:class:`bot.sandbox.telegram.TelegramEmulator` (Bot API side). Kept apart so telegram.py
stays readable; it imports this module, so this one imports telegram.py only lazily.
Shapes and error texts follow the real Bot API (aiogram parses them).
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator, _Params

JSON = dict[str, Any]

UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
TOPIC_CLOSED = "Bad Request: TOPIC_CLOSED"
NOT_A_FORUM = "Bad Request: the chat is not a forum"
NOT_ENOUGH_RIGHTS = "Bad Request: not enough rights to manage topics"

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
    "can_send_welcome_messages",
)
# What a freshly promoted admin gets from the Telegram apps by default.
_DEFAULT_RIGHTS = {name: name != "can_promote_members" for name in ADMIN_RIGHTS}
_START_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
# @username: 4-32 chars, not part of an e-mail address or a /command@bot.
_MENTION = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}\b")
_MEDIA_KEYS = ("document", "sticker", "photo", "voice", "audio", "video", "video_note",
               "animation", "location", "venue", "contact", "dice")
_TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


def auto_entities(text: str) -> list[JSON]:
    """Entities a Telegram client attaches to typed text: a leading bot_command
    (``/cmd@bot`` included) and ``@username`` mentions."""
    entities: list[JSON] = []
    command_end = 0
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        command_end = len(command)
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16(command)})
    for match in _MENTION.finditer(text, command_end):
        entities.append(
            {"type": "mention", "offset": _utf16(text[: match.start()]),
             "length": _utf16(match.group())}
        )
    return entities


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _api_error(code: int, description: str, **parameters: int) -> Exception:
    from bot.sandbox.telegram import _ApiError

    return _ApiError(code, description, parameters=parameters or None)


class GroupChatMixin:
    """Test-side group controls on EmuChat (see the report of each method)."""

    if TYPE_CHECKING:
        emu: TelegramEmulator
        id: int
        type: str
        title: str | None
        admins: list[EmuUser]
        members: list[EmuUser]
        bot_admin: bool
        bot_left: bool
        messages: list[EmuMessage]

    is_forum: bool
    banned: set[int]
    rights: dict[int, JSON]
    """Per-admin rights overrides (user id → {can_x: bool}); missing = app defaults."""
    bot_rights: JSON
    bot_kicked: bool
    migrated_to: int | None
    topics: dict[int, JSON]
    """message_thread_id → {"name", "icon_color", "closed", "deleted"}."""
    _group_limit: int | None
    _group_sends: deque[float]

    def _init_groups(self, *, forum: bool = False) -> None:
        self.is_forum = forum
        self.banned = set()
        self.rights = {}
        self.bot_rights = {}
        self.bot_kicked = False
        self.migrated_to = None
        self.topics = {}
        self._group_limit = None
        self._group_sends = deque()

    def _me(self) -> EmuChat:
        return self  # type: ignore[return-value]

    def _creator(self) -> EmuUser | None:
        return self.admins[0] if self.admins else None

    def _actor(self, by: EmuUser | None) -> JSON:
        actor = by or self._creator()
        if actor is None:
            raise AssertionError(f"group {self.id} has no creator to act; pass by=")
        return actor.to_api()

    def _need_group(self) -> None:
        if self.type not in ("group", "supergroup"):
            raise AssertionError(f"chat {self.id} is not a group")

    # -- membership ------------------------------------------------------------
    def _member_update(self, kind: str, actor: JSON, old: JSON, new: JSON) -> None:
        payload: JSON = {
            "chat": self._me().to_api(),
            "from": actor,
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        self.emu._enqueue(kind, payload, self._me())

    def _service(self, actor: JSON, fields: JSON, *, thread: int | None = None) -> EmuMessage:
        """A service message (new_chat_members, forum_topic_created...) the bot receives."""
        msg = self.emu._new_message(self._me(), actor, from_bot=actor.get("is_bot") is True)
        msg.media = fields
        if thread is not None:
            msg.thread_id = thread
        self.emu._enqueue("message", msg.to_api(), self._me())
        return msg

    def _status(self, user: EmuUser) -> JSON:
        return self.emu._member(self._me(), user.id)

    def add(self, user: EmuUser, *, by: EmuUser | None = None) -> EmuMessage:
        """`user` joins (by=None: by themselves) or is added by `by`: a new_chat_members
        service message and a chat_member update (left/kicked → member)."""
        self._need_group()
        if by is None and user.id in self.banned:
            raise AssertionError(f"{user.first_name} is banned: unban() or add(by=admin)")
        self.emu.users.setdefault(user.id, user)
        old = self._status(user)
        self.banned.discard(user.id)
        if all(u.id != user.id for u in [*self.admins, *self.members]):
            self.members.append(user)
        actor = (by or user).to_api()
        self._member_update("chat_member", actor, old, self._status(user))
        return self._service(actor, {"new_chat_members": [user.to_api()]})

    def remove(self, user: EmuUser, *, by: EmuUser | None = None,
               ban: bool = False) -> EmuMessage:
        """`user` leaves (by=None) or is removed by `by` (ban=True: banned, status "kicked"):
        a left_chat_member service message and a chat_member update."""
        self._need_group()
        old = self._status(user)
        self.admins = [u for u in self.admins if u.id != user.id]
        self.members = [u for u in self.members if u.id != user.id]
        self.rights.pop(user.id, None)
        if ban:
            self.banned.add(user.id)
        actor = (by or user).to_api()
        self._member_update("chat_member", actor, old, self._status(user))
        return self._service(actor, {"left_chat_member": user.to_api()})

    def unban(self, user: EmuUser, *, by: EmuUser | None = None) -> None:
        """Lift a ban (status kicked → left); a chat_member update."""
        old = self._status(user)
        self.banned.discard(user.id)
        self._member_update("chat_member", self._actor(by), old, self._status(user))

    def promote(self, user: EmuUser, *, by: EmuUser | None = None, **rights: bool) -> None:
        """Make `user` an administrator (rights: can_* overrides of the app defaults);
        a chat_member update member → administrator. Promoting an admin edits rights."""
        self._need_group()
        unknown = set(rights) - set(ADMIN_RIGHTS)
        if unknown:
            raise ValueError(f"unknown admin rights {sorted(unknown)}")
        old = self._status(user)
        self.members = [u for u in self.members if u.id != user.id]
        if all(u.id != user.id for u in self.admins):
            self.admins.append(user)
        self.rights[user.id] = {**self.rights.get(user.id, {}), **rights}
        self._member_update("chat_member", self._actor(by), old, self._status(user))

    def demote(self, user: EmuUser, *, by: EmuUser | None = None) -> None:
        """Administrator → plain member; a chat_member update."""
        self._need_group()
        if self._creator() is user or (self.admins and self.admins[0].id == user.id):
            raise AssertionError("the creator cannot be demoted")
        old = self._status(user)
        self.admins = [u for u in self.admins if u.id != user.id]
        self.rights.pop(user.id, None)
        if all(u.id != user.id for u in self.members):
            self.members.append(user)
        self._member_update("chat_member", self._actor(by), old, self._status(user))

    # -- the bot itself --------------------------------------------------------
    def _bot_status(self) -> JSON:
        return self.emu._member(self._me(), self.emu._bot_id())

    def add_bot(self, *, by: EmuUser | None = None, admin: bool = False,
                **rights: bool) -> EmuMessage:
        """`by` (default: the creator) adds the bot (admin=True: as administrator):
        a my_chat_member update (left/kicked → member/administrator) and a
        new_chat_members service message."""
        self._need_group()
        old = self._bot_status()
        self.bot_left = self.bot_kicked = False
        self.bot_admin = admin
        self.bot_rights = dict(rights)
        actor = self._actor(by)
        self._member_update("my_chat_member", actor, old, self._bot_status())
        return self._service(actor, {"new_chat_members": [self.emu._bot_user()]})

    def remove_bot(self, *, by: EmuUser | None = None, ban: bool = True) -> None:
        """`by` removes the bot: a my_chat_member update → "kicked" (ban=True, what
        removing from a supergroup does) or "left"; the bot's sends then answer 403
        "bot was kicked from the …" / "bot is not a member of the …"."""
        self._need_group()
        old = self._bot_status()
        self.bot_left = True
        self.bot_kicked = ban
        self._member_update("my_chat_member", self._actor(by), old, self._bot_status())

    def promote_bot(self, *, by: EmuUser | None = None, **rights: bool) -> None:
        """The bot becomes an administrator (rights: overrides); my_chat_member update."""
        old = self._bot_status()
        self.bot_admin = True
        self.bot_rights = {**self.bot_rights, **rights}
        self._member_update("my_chat_member", self._actor(by), old, self._bot_status())

    def demote_bot(self, *, by: EmuUser | None = None) -> None:
        """The bot becomes a plain member; my_chat_member update."""
        old = self._bot_status()
        self.bot_admin = False
        self.bot_rights = {}
        self._member_update("my_chat_member", self._actor(by), old, self._bot_status())

    # -- migration -------------------------------------------------------------
    def migrate_to_supergroup(self, *, by: EmuUser | None = None) -> EmuChat:
        """A basic group (type "group") becomes a supergroup: a service message with
        migrate_to_chat_id here, one with migrate_from_chat_id in the new chat; any
        later call with the old id answers 400 UPGRADED + parameters.migrate_to_chat_id.
        Returns the new supergroup (same people, same bot status)."""
        if self.type != "group":
            raise AssertionError("only a basic group (type 'group') can migrate")
        new = self.emu.add_group(self.title or "", list(self.admins), list(self.members),
                                 bot_admin=self.bot_admin)
        new.rights, new.banned = dict(self.rights), set(self.banned)
        new.bot_left, new.bot_kicked, new.bot_rights = (
            self.bot_left, self.bot_kicked, dict(self.bot_rights))
        actor = self._actor(by)
        self._service(actor, {"migrate_to_chat_id": new.id})
        self.migrated_to = new.id
        new._service(actor, {"migrate_from_chat_id": self.id})
        return new

    # -- forum topics ----------------------------------------------------------
    def topic(self, name: str, *, by: EmuUser | None = None, icon_color: int | None = None) -> int:
        """A user (default: the creator) creates a forum topic: a forum_topic_created
        service message whose id is the topic's message_thread_id (returned)."""
        if not self.is_forum:
            raise AssertionError(f"chat {self.id} is not a forum (add_group(forum=True))")
        color = icon_color if icon_color is not None else _TOPIC_COLORS[len(self.topics) % 6]
        return self.emu._create_topic(self._me(), self._actor(by), name, color)

    def close_topic(self, thread: int, *, by: EmuUser | None = None) -> None:
        """Close a topic (forum_topic_closed service message in it)."""
        self.topics[thread]["closed"] = True
        self._service(self._actor(by), {"forum_topic_closed": {}}, thread=thread)

    def delete_topic(self, thread: int) -> None:
        """Delete a topic with its messages (sends into it: "message thread not found")."""
        self.topics[thread]["deleted"] = True
        for msg in self.messages:
            if msg.thread_id == thread:
                msg.deleted = True
        self.emu._changed.fire()

    # -- rate limit ------------------------------------------------------------
    def enforce_group_limit(self, per_minute: int | None = 20) -> None:
        """Opt-in: more than `per_minute` new bot messages in any 60 s window answer 429
        with retry_after (until the oldest leaves the window). None turns it off."""
        self._group_limit = per_minute
        self._group_sends.clear()


class GroupEmulatorMixin:
    """Bot API side of groups, mixed into TelegramEmulator."""

    if TYPE_CHECKING:
        bot_id: int
        privacy_mode: bool
        users: dict[int, EmuUser]
        chats: dict[int, EmuChat]

        def _bot_user(self) -> JSON: ...
        def _enqueue(self, kind: str, payload: JSON, chat: EmuChat | None) -> None: ...
        def _chat(self, p: _Params, key: str = "chat_id") -> EmuChat: ...
        def private_chat(self, user: EmuUser) -> EmuChat: ...

    def _bot_id(self) -> int:
        from bot.sandbox.telegram import DEFAULT_BOT_ID

        return self.bot_id or DEFAULT_BOT_ID

    def _member(self, chat: EmuChat, user_id: int) -> JSON:
        """getChatMember's answer: ChatMemberOwner/Administrator/Member/Left/Banned."""
        if user_id == self._bot_id():
            bot = self._bot_user()
            if chat.bot_kicked:
                return {"status": "kicked", "user": bot, "until_date": 0}
            if chat.bot_left:
                return {"status": "left", "user": bot}
            if not chat.bot_admin:
                return {"status": "member", "user": bot}
            return _admin(chat, bot, chat.bot_rights)
        known = self.users.get(user_id)
        user = known.to_api() if known else {"id": user_id, "is_bot": False, "first_name": "?"}
        if chat.type == "private":
            return {"status": "member", "user": user}
        if user_id in chat.banned:
            return {"status": "kicked", "user": user, "until_date": 0}
        if chat.admins and chat.admins[0].id == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if any(a.id == user_id for a in chat.admins):
            return _admin(chat, user, chat.rights.get(user_id, {}))
        if any(m.id == user_id for m in chat.members):
            return {"status": "member", "user": user}
        return {"status": "left", "user": user}

    # Opt-in (``emu.chat_member_admins_only = True``), as Telegram does: chat_member
    # updates reach the bot only in groups where it is an administrator.
    chat_member_admins_only: bool = False

    def _bot_sees(self, kind: str, payload: JSON, chat: EmuChat | None) -> bool:
        """Privacy mode (opt-in, ``emu.privacy_mode = True``; BotFather's default): in a
        group where the bot is not an admin it gets only service messages, /commands
        (not those addressed to another bot), messages mentioning it, replies to it."""
        if (kind == "chat_member" and self.chat_member_admins_only and chat is not None
                and not chat.bot_admin):
            return False
        if not self.privacy_mode or kind != "message" or chat is None:
            return True
        if chat.type == "private" or chat.bot_admin:
            return True
        if "text" not in payload and "caption" not in payload and not any(
                k in payload for k in _MEDIA_KEYS):
            return True  # a service message
        me = f"@{self._bot_user()['username']}".casefold()
        text = str(payload.get("text") or payload.get("caption") or "")
        units = text.encode("utf-16-le")  # entity offsets count UTF-16 code units
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            return "@" not in command or command.casefold().endswith(me)
        entities = payload.get("entities") or payload.get("caption_entities") or []
        for e in entities:
            word = units[2 * e["offset"]: 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            if e.get("type") == "mention" and word.casefold() == me:
                return True
        replied = payload.get("reply_to_message") or {}
        return bool(replied.get("from", {}).get("id") == self._bot_id())

    def _group_guard(self, chat: EmuChat, method: str) -> None:
        """Group faults for message-producing calls: removed bot, topic state, rate."""
        where = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.type != "private" and chat.bot_kicked:
            raise _api_error(403, f"Forbidden: bot was kicked from the {where}")
        if chat.type != "private" and chat.bot_left:
            raise _api_error(403, f"Forbidden: bot is not a member of the {where}")
        if chat._group_limit is not None and method in ("sendmessage", "senddocument"):
            now = time.monotonic()
            sends = chat._group_sends
            while sends and now - sends[0] >= 60:
                sends.popleft()
            if len(sends) >= chat._group_limit:
                retry = max(1, math.ceil(60 - (now - sends[0])))
                raise _api_error(429, f"Too Many Requests: retry after {retry}",
                                 retry_after=retry)
            sends.append(now)

    def _usable(self, chat: EmuChat) -> EmuChat:
        """Every method naming a migrated basic group answers what Telegram answers."""
        if chat.migrated_to is not None:
            raise _api_error(400, UPGRADED, migrate_to_chat_id=chat.migrated_to)
        return chat

    def _thread(self, p: _Params, chat: EmuChat) -> int | None:
        """The validated message_thread_id of a send (None: General / not a forum)."""
        thread = p.integer("message_thread_id")
        if not thread or not chat.is_forum:
            return None  # outside forums Telegram ignores it for plain sends
        topic = chat.topics.get(thread)
        if topic is None or topic["deleted"]:
            raise _api_error(400, THREAD_NOT_FOUND)
        if topic["closed"] and not _can(self._member(chat, self._bot_id()), "can_manage_topics"):
            raise _api_error(400, TOPIC_CLOSED)
        return thread

    def _create_topic(self, chat: EmuChat, actor: JSON, name: str, color: int) -> int:
        msg = chat._service(actor, {"forum_topic_created": {"name": name, "icon_color": color}})
        msg.thread_id = msg.message_id
        chat.topics[msg.message_id] = {"name": name, "icon_color": color,
                                       "closed": False, "deleted": False}
        # Re-enqueue with the thread fields now known (the service message is one update).
        self._drop_last_update()
        self._enqueue("message", msg.to_api(), chat)
        return msg.message_id

    def _drop_last_update(self) -> None:
        updates: list[Any] = getattr(self, "_updates")  # noqa: B009 - typed in telegram.py
        updates.pop()

    async def start_link(self, user: EmuUser, link: str) -> EmuMessage:
        """`user` opens a t.me link to the bot: ``https://t.me/<bot>?start=<payload>``
        (or just the payload) sends "/start <payload>" in their private chat;
        ``?startgroup=<payload>`` is not handled here (see EmuChat.add_bot). Invalid
        payloads (Telegram allows 1-64 of A-Z a-z 0-9 _ -) fail the test."""
        from bot.sandbox.telegram import BOT_USERNAME

        payload = link
        if "://" in link or link.startswith("t.me/"):
            parts = urlsplit(link if "://" in link else f"https://{link}")
            if parts.netloc not in ("t.me", "telegram.me") or \
                    parts.path.strip("/") != BOT_USERNAME:
                raise AssertionError(f"{link!r} is not a link to @{BOT_USERNAME}")
            payload = parse_qs(parts.query).get("start", [""])[0]
        if payload and not _START_PAYLOAD.fullmatch(payload):
            raise AssertionError(
                f"start payload {payload!r} is invalid: Telegram allows 1-64 characters "
                "A-Z a-z 0-9 _ -"
            )
        chat = self.private_chat(user)
        return await chat.send(f"/start {payload}" if payload else "/start", user)

    # -- Bot API methods ---------------------------------------------------------
    async def _api_createForumTopic(self, p: _Params) -> JSON:
        chat = self._chat(p)
        if not chat.is_forum:
            raise _api_error(400, NOT_A_FORUM)
        if not _can(self._member(chat, self._bot_id()), "can_manage_topics"):
            raise _api_error(400, NOT_ENOUGH_RIGHTS)
        name = p.string("name", "") or ""
        if not 1 <= len(name) <= 128:
            raise _api_error(400, "Bad Request: TOPIC_TITLE_EMPTY" if not name
                             else "Bad Request: TOPIC_TITLE_TOO_LONG")
        color = p.integer("icon_color") or _TOPIC_COLORS[0]
        thread = self._create_topic(chat, self._bot_user(), name, color)
        return {"message_thread_id": thread, "name": name, "icon_color": color}

    async def _api_closeForumTopic(self, p: _Params) -> bool:
        return self._set_topic(p, closed=True)

    async def _api_reopenForumTopic(self, p: _Params) -> bool:
        return self._set_topic(p, closed=False)

    async def _api_deleteForumTopic(self, p: _Params) -> bool:
        chat = self._chat(p)
        self._set_topic(p, closed=None)
        chat.delete_topic(p.need_int("message_thread_id"))
        return True

    def _set_topic(self, p: _Params, *, closed: bool | None) -> bool:
        chat = self._chat(p)
        if not chat.is_forum:
            raise _api_error(400, NOT_A_FORUM)
        if not _can(self._member(chat, self._bot_id()), "can_manage_topics"):
            raise _api_error(400, NOT_ENOUGH_RIGHTS)
        topic = chat.topics.get(p.need_int("message_thread_id"))
        if topic is None or topic["deleted"]:
            raise _api_error(400, "Bad Request: TOPIC_ID_INVALID")
        if closed is not None:
            if topic["closed"] == closed:
                raise _api_error(400, "Bad Request: TOPIC_NOT_MODIFIED")
            topic["closed"] = closed
        return True


def _can(member: JSON, right: str) -> bool:
    return member.get("status") == "creator" or member.get(right) is True


def _admin(chat: EmuChat, user: JSON, overrides: JSON) -> JSON:
    """ChatMemberAdministrator; can_manage_topics exists only in supergroups."""
    rights = {**_DEFAULT_RIGHTS, **overrides}
    if chat.type != "supergroup":
        rights.pop("can_manage_topics", None)
    return {"status": "administrator", "user": user, "can_be_edited": False,
            "is_anonymous": False, **rights}
