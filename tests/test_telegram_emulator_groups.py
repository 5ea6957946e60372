"""Group scenarios of the Telegram emulator, driven by a real aiogram Bot over HTTP:
roles, membership updates, the bot joining/leaving, basic-group migration, forum
topics, start links, mentions/replies, the opt-in per-group rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberUpdated,
    Message,
    Update,
)

from bot.sandbox.telegram import BOT_USERNAME, DEFAULT_BOT_ID, TelegramEmulator

pytestmark = pytest.mark.asyncio

TOKEN = "123456:TEST-token"
BOT_ID = 123456


@pytest.fixture
async def emu() -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def bot(emu: TelegramEmulator) -> AsyncIterator[Bot]:
    assert emu.url is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.url))
    tg = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    await tg.get_me()  # the emulator learns the bot id from the token
    yield tg
    await tg.session.close()


@asynccontextmanager
async def polling(emu: TelegramEmulator, bot: Bot, *routers: Router) -> AsyncIterator[None]:
    dp = Dispatcher()
    dp.include_routers(*routers)
    calls = emu.count("getUpdates")
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False,
                         allowed_updates=dp.resolve_used_update_types())
    )
    await emu.wait_request("getUpdates", count=calls + 1, timeout=5)
    try:
        yield
    finally:
        await dp.stop_polling()
        await task


async def drain(bot: Bot) -> None:
    """Confirm every queued update (what a bot that has polled before would have done)."""
    updates = await bot.get_updates()
    if updates:
        await bot.get_updates(offset=updates[-1].update_id + 1)


def parse_pending(emu: TelegramEmulator) -> list[Update]:
    """Every queued update as aiogram parses it (raises if a shape is wrong)."""
    return [Update.model_validate(u) for u in emu.pending_updates]


async def test_roles_get_chat_member_and_administrators(emu: TelegramEmulator, bot: Bot) -> None:
    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    carol, dave = emu.add_user(first_name="Carol"), emu.add_user(first_name="Dave")
    eve = emu.add_user(first_name="Eve")
    group = emu.add_group("Team", admins=[alice, bob], members=[carol, eve])
    group.remove(eve, by=alice, ban=True)

    members = {u.first_name: await bot.get_chat_member(group.id, u.id)
               for u in (alice, bob, carol, dave, eve)}
    assert isinstance(members["Alice"], ChatMemberOwner)
    assert isinstance(members["Bob"], ChatMemberAdministrator)
    assert members["Bob"].can_delete_messages
    assert members["Bob"].can_manage_topics
    assert not members["Bob"].can_promote_members
    assert isinstance(members["Carol"], ChatMemberMember)
    assert isinstance(members["Dave"], ChatMemberLeft)
    assert isinstance(members["Eve"], ChatMemberBanned)
    assert str(members["Eve"].status) == "kicked"
    me = await bot.get_chat_member(group.id, BOT_ID)
    assert isinstance(me, ChatMemberAdministrator)

    group.promote(carol, can_delete_messages=False)
    carol_now = await bot.get_chat_member(group.id, carol.id)
    assert isinstance(carol_now, ChatMemberAdministrator)
    assert (carol_now.can_delete_messages, carol_now.can_pin_messages) == (False, True)
    admins = await bot.get_chat_administrators(group.id)
    assert [(m.status, m.user.first_name) for m in admins] == [
        ("creator", "Alice"), ("administrator", "Bob"), ("administrator", "Carol"),
        ("administrator", "KoalaBot"),
    ]

    group.demote(bob)
    assert isinstance(await bot.get_chat_member(group.id, bob.id), ChatMemberMember)
    group.add(eve, by=alice)  # adding lifts the ban
    assert isinstance(await bot.get_chat_member(group.id, eve.id), ChatMemberMember)
    group.remove(carol)  # leaves by herself
    assert isinstance(await bot.get_chat_member(group.id, carol.id), ChatMemberLeft)
    assert await bot.get_chat_member_count(group.id) == 4  # Alice, Bob, Eve, the bot
    with pytest.raises(AssertionError, match="creator"):
        group.demote(alice)

    basic = emu.add_group("Old", admins=[alice], members=[bob], kind="group")
    admin = await bot.get_chat_member(basic.id, alice.id)
    assert admin.status == "creator"
    basic.promote(bob)
    in_basic = await bot.get_chat_member(basic.id, bob.id)
    assert isinstance(in_basic, ChatMemberAdministrator)
    assert in_basic.can_manage_topics is None  # supergroups only
    assert all(u.chat_member is not None or u.message is not None for u in parse_pending(emu))


async def test_chat_member_updates_only_when_asked_for(emu: TelegramEmulator, bot: Bot) -> None:
    alice, bob, carol = (emu.add_user(first_name=n) for n in ("Alice", "Bob", "Carol"))
    group = emu.add_group("Team", admins=[alice], members=[bob])

    group.promote(bob)  # default allowed_updates: no chat_member, as on Telegram
    assert await bot.get_updates() == []

    group.demote(bob, by=alice)
    group.add(carol, by=bob)
    group.remove(carol, by=alice, ban=True)
    with pytest.raises(AssertionError, match="banned"):
        group.add(carol)  # a banned user cannot join by herself
    group.unban(carol, by=alice)
    group.add(carol)  # joins by herself
    assert all(isinstance(u, Update) for u in parse_pending(emu))
    updates = await bot.get_updates(allowed_updates=["message", "chat_member"])

    changes = [u.chat_member for u in updates if u.chat_member is not None]
    assert all(isinstance(c, ChatMemberUpdated) for c in changes)
    assert [(c.from_user.first_name, c.new_chat_member.user.first_name,
             c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("Alice", "Bob", "administrator", "member"),
        ("Bob", "Carol", "left", "member"),
        ("Alice", "Carol", "member", "kicked"),
        ("Alice", "Carol", "kicked", "left"),
        ("Carol", "Carol", "left", "member"),
    ]
    assert all(c.chat.id == group.id for c in changes)
    service = [u.message for u in updates if u.message is not None]
    assert [m.new_chat_members[0].first_name if m.new_chat_members else None
            for m in service] == ["Carol", None, "Carol"]
    assert service[1].left_chat_member is not None
    assert service[1].left_chat_member.first_name == "Carol"


async def test_chat_member_reaches_a_dispatcher_that_handles_it(emu: TelegramEmulator,
                                                                bot: Bot) -> None:
    router = Router()
    seen: list[tuple[str, str]] = []

    @router.chat_member()
    async def member(update: ChatMemberUpdated) -> None:
        seen.append((update.old_chat_member.status, update.new_chat_member.status))

    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    group = emu.add_group("Team", admins=[alice], members=[bob])
    async with polling(emu, bot, router):
        group.promote(bob)
        group.demote(bob)
        await group.wait_idle(quiet=0.1, timeout=10)
    assert seen == [("member", "administrator"), ("administrator", "member")]


async def test_bot_added_and_removed(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()
    seen: list[tuple[int, str, str, str]] = []

    @router.my_chat_member()
    async def mine(update: ChatMemberUpdated) -> None:
        seen.append((update.chat.id, update.from_user.first_name,
                     update.old_chat_member.status, update.new_chat_member.status))

    alice = emu.add_user(first_name="Alice")
    group = emu.add_group("Team", admins=[alice], bot_admin=False)
    group.remove_bot(by=alice, ban=False)  # start outside the group
    await drain(bot)
    async with polling(emu, bot, router):
        joined = group.add_bot(by=alice)
        group.promote_bot(can_delete_messages=False)
        await bot.send_message(group.id, "hello team")
        group.remove_bot(by=alice)
        await group.wait_idle(quiet=0.1, timeout=10)
    assert seen == [
        (group.id, "Alice", "left", "member"),
        (group.id, "Alice", "member", "administrator"),
        (group.id, "Alice", "administrator", "kicked"),
    ]
    assert joined.media == {"new_chat_members": [emu._bot_user()]}
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(group.id, "still here?")
    with pytest.raises(TelegramForbiddenError, match="bot was kicked"):
        await bot.send_chat_action(group.id, "typing")
    assert (await bot.get_chat_member(group.id, BOT_ID)).status == "kicked"

    group.add_bot(by=alice, admin=True)
    me = await bot.get_chat_member(group.id, BOT_ID)
    assert isinstance(me, ChatMemberAdministrator)
    group.remove_bot(by=alice, ban=False)
    with pytest.raises(TelegramForbiddenError,
                       match="bot is not a member of the supergroup chat"):
        await bot.send_document(group.id, BufferedInputFile(b"x", "x.txt"))
    assert isinstance(await bot.get_chat_member(group.id, BOT_ID), ChatMemberLeft)

    basic = emu.add_group("Old", admins=[alice], kind="group")
    basic.remove_bot(by=alice)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(basic.id, "x")
    assert [m.text for m in group.bot_messages] == ["hello team"]


async def test_basic_group_migrates_to_supergroup(emu: TelegramEmulator, bot: Bot) -> None:
    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    old = emu.add_group("Family", admins=[alice], members=[bob], kind="group")
    assert (await bot.get_chat(old.id)).type == "group"
    await bot.send_message(old.id, "before")

    new = old.migrate_to_supergroup()
    updates = await bot.get_updates()
    migrations = [(u.message.chat.id, u.message.chat.type, u.message.migrate_to_chat_id,
                   u.message.migrate_from_chat_id) for u in updates if u.message]
    assert migrations == [(old.id, "group", new.id, None),
                          (new.id, "supergroup", None, old.id)]
    assert str(new.id).startswith("-100")

    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(old.id, "after")
    assert info.value.migrate_to_chat_id == new.id
    with pytest.raises(TelegramMigrateToChat):
        await bot.get_chat_member(old.id, alice.id)
    await bot.send_message(new.id, "after")
    assert (await bot.get_chat_member(new.id, bob.id)).status == "member"
    assert [m.text for m in new.bot_messages] == ["after"]
    with pytest.raises(AssertionError, match="basic group"):
        new.migrate_to_supergroup()


async def test_forum_topics(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}")  # aiogram keeps the topic

    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    group = emu.add_group("Shop", admins=[alice], members=[bob], forum=True)
    assert (await bot.get_chat(group.id)).is_forum
    orders = group.topic("Orders")
    codes = group.topic("Codes", by=bob)
    created = [u.message for u in parse_pending(emu) if u.message]
    assert [(m.message_thread_id, m.is_topic_message,
             m.forum_topic_created.name if m.forum_topic_created else None)
            for m in created] == [(orders, True, "Orders"), (codes, True, "Codes")]
    await drain(bot)

    async with polling(emu, bot, router):
        sent = await group.send("in orders", user=bob, thread=orders)
        reply = await group.wait_for("echo in orders", thread=orders)
        await group.send("in general", user=bob)
        general = await group.wait_for("echo in general", thread=0)
        with pytest.raises(AssertionError, match="no bot message matched"):
            await group.wait_for("echo", thread=codes, timeout=0.2)
    assert sent.thread_id == orders
    assert sent.to_api()["is_topic_message"] is True
    assert sent.reply_to == orders  # Telegram: a topic message replies to the topic's root
    assert (reply.thread_id, general.thread_id) == (orders, None)

    doc = await bot.send_document(group.id, BufferedInputFile(b"1234", "code.txt"),
                                  message_thread_id=codes)
    assert (doc.message_thread_id, doc.is_topic_message) == (codes, True)
    assert group.last.thread_id == codes
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "x", message_thread_id=9999)

    made = await bot.create_forum_topic(group.id, "Bot topic")
    await bot.send_message(group.id, "in bot topic", message_thread_id=made.message_thread_id)
    assert group.last.thread_id == made.message_thread_id
    assert await bot.close_forum_topic(group.id, made.message_thread_id)
    group.demote_bot()
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(group.id, "x", message_thread_id=made.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_forum_topic(group.id, "nope")
    group.delete_topic(codes)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "x", message_thread_id=codes)
    plain = emu.add_group("Plain", admins=[alice])
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")
    assert all(isinstance(u, Update) for u in parse_pending(emu))


async def test_start_links(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def linked(message: Message, command: CommandObject) -> None:
        await message.answer(f"payload={command.args}")

    @router.message(CommandStart())
    async def plain(message: Message) -> None:
        await message.answer("plain start")

    alice = emu.add_user(first_name="Alice")
    async with polling(emu, bot, router):
        sent = await emu.start_link(alice, f"https://t.me/{BOT_USERNAME}?start=grp_-100123")
        chat = emu.private_chat(alice)
        await chat.wait_for("payload=grp_-100123")
        await emu.start_link(alice, "join_42")  # a bare payload works too
        await chat.wait_for("payload=join_42")
        await emu.start_link(alice, f"t.me/{BOT_USERNAME}")
        await chat.wait_for("plain start")
    assert sent.text == "/start grp_-100123"
    assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    with pytest.raises(AssertionError, match="invalid"):
        await emu.start_link(alice, "has space")
    with pytest.raises(AssertionError, match="invalid"):
        await emu.start_link(alice, "x" * 65)
    with pytest.raises(AssertionError, match="not a link to"):
        await emu.start_link(alice, "https://t.me/other_bot?start=x")


async def test_mentions_replies_and_deletes_in_groups(emu: TelegramEmulator, bot: Bot) -> None:
    router = Router()
    seen: list[tuple[str, list[str], bool]] = []

    @router.message()
    async def record(message: Message) -> None:
        text = message.text or ""
        mentions = [e.extract_from(text) for e in message.entities or [] if e.type == "mention"]
        to_bot = bool(message.reply_to_message and message.reply_to_message.from_user
                      and message.reply_to_message.from_user.is_bot)
        seen.append((text, mentions, to_bot))

    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    group = emu.add_group("Team", admins=[alice], members=[bob])
    await bot.send_message(group.id, "I am the bot")
    async with polling(emu, bot, router):
        await group.send(f"hey @{BOT_USERNAME} buy one, mail me a@b.com", user=bob)
        await group.send("thanks", user=bob, reply_to=group.last.message_id)
        await group.send(f"/buy@{BOT_USERNAME} @alice_x", user=bob)
        await group.wait_idle(quiet=0.1, timeout=10)
    assert seen == [
        (f"hey @{BOT_USERNAME} buy one, mail me a@b.com", [f"@{BOT_USERNAME}"], False),
        ("thanks", [], True),
        (f"/buy@{BOT_USERNAME} @alice_x", ["@alice_x"], False),
    ]
    assert group.messages[-1].entities[0] == {
        "type": "bot_command", "offset": 0, "length": len(f"/buy@{BOT_USERNAME}")}

    user_msg = group.messages[-1]
    assert await bot.delete_message(group.id, user_msg.message_id)  # the bot is an admin
    assert user_msg.deleted
    group.demote_bot()
    other = await group.send("keep me", user=bob)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(group.id, other.message_id)
    assert await bot.delete_message(group.id, group.bot_messages[0].message_id)  # its own


async def test_group_rate_limit_is_opt_in(emu: TelegramEmulator, bot: Bot) -> None:
    alice = emu.add_user(first_name="Alice")
    group = emu.add_group("Team", admins=[alice])
    for n in range(25):  # off by default
        await bot.send_message(group.id, f"free {n}")

    group.enforce_group_limit(per_minute=3)
    for n in range(3):
        await bot.send_message(group.id, f"limited {n}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(group.id, "one too many")
    assert 1 <= info.value.retry_after <= 60
    with pytest.raises(TelegramRetryAfter):
        await bot.send_document(group.id, BufferedInputFile(b"x", "x.txt"))
    await bot.send_message(alice.id, "private chats are not limited by it")
    edited = await bot.edit_message_text("edits are not counted", chat_id=group.id,
                                         message_id=group.last.message_id)
    assert edited

    group.enforce_group_limit(None)
    await bot.send_message(group.id, "free again")
    assert [r.status for r in emu.calls("sendMessage", group.id)][-3:] == [200, 429, 200]
    assert DEFAULT_BOT_ID != BOT_ID  # the bot id comes from the token


async def test_privacy_mode_is_opt_in(emu: TelegramEmulator, bot: Bot) -> None:
    alice, bob = emu.add_user(first_name="Alice"), emu.add_user(first_name="Bob")
    group = emu.add_group("Team", admins=[alice], members=[bob], bot_admin=False)
    await group.send("everyone sees this by default", user=bob)
    assert len(await bot.get_updates()) == 1
    await drain(bot)

    emu.privacy_mode = True
    mine = await bot.send_message(group.id, "from the bot")
    await group.send("chit-chat", user=bob)
    await group.send("/buy", user=bob)
    await group.send("/buy@other_bot", user=bob)
    await group.send(f"/buy@{BOT_USERNAME}", user=bob)
    await group.send(f"ёжик @{BOT_USERNAME} please", user=bob)
    await group.send("@someone_else hi", user=bob)
    await group.send("ok", user=bob, reply_to=mine.message_id)
    await group.send_media("sticker", user=bob)
    group.add(emu.add_user(first_name="Carol"), by=alice)
    private = emu.private_chat(bob)
    await private.send("private chats are not filtered")
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["/buy", f"/buy@{BOT_USERNAME}", f"ёжик @{BOT_USERNAME} please", "ok",
                     None, "private chats are not filtered"]
    await drain(bot)

    group.promote_bot()  # admins see everything
    await group.send("chit-chat again", user=bob)
    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["chit-chat again"]
    assert [m.text for m in group.messages if m.text == "chit-chat"]  # the group still has it
