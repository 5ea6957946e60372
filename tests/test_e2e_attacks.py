"""Hostile or unusual input from the chat side: non-text messages, forged buttons, long
texts and codes, a provider that hangs or leaks the key into its error texts."""

from __future__ import annotations

from bot.app import App
from bot.sandbox.telegram import MEDIA_KINDS, EmuChat, TelegramEmulator
from tests.conftest import Person

WENT_WRONG = "Something went wrong"


def _went_wrong(chat: EmuChat) -> list[str]:
    return [m.text for m in chat.bot_messages if WENT_WRONG in m.text] + [
        c.text or "" for c in chat.callbacks if WENT_WRONG in (c.text or "")]


# --- non-text messages ------------------------------------------------------------------


async def test_every_non_text_message_gets_a_short_answer_in_private(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    for kind in MEDIA_KINDS:
        await chat.send_media(kind)
        reply = await chat.wait_for("I read text only")
        assert reply.reply_to is None or reply.reply_to
    await chat.send_document("notes.txt", b"hello")
    await chat.wait_for("I read text only")
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()
    answers = [m for m in chat.bot_messages if "I read text only" in m.text]
    assert len(answers) == len(MEDIA_KINDS) + 1


async def test_non_text_messages_in_a_group_are_left_alone_unless_addressed(
        app: App, tg: TelegramEmulator, alice: Person) -> None:
    bob = tg.add_user(first_name="Bob")
    group = tg.add_group(admins=[alice.user], members=[bob])
    for kind in MEDIA_KINDS:
        await group.send_media(kind, user=bob)
    await group.send_document("notes.txt", b"hello", user=bob)
    await group.wait_idle()
    assert group.bot_messages == [], group.transcript()
    # A sticker in reply to the bot is meant for it: a short answer, still no error.
    await group.send("/start", user=bob)
    hello = await group.wait_for("private chat")
    await group.send_media("sticker", user=bob, reply_to=hello.message_id)
    await group.wait_for("I read text only")
    await group.wait_idle()
    assert _went_wrong(group) == [], group.transcript()
