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


# --- forged button data -------------------------------------------------------------------

HUGE_IDS = (2**31, 2**63, 2**64, int("9" * 50))


async def _press_forged(chat: EmuChat, data: str) -> str:
    """Press a button with forged data on the newest bot message; the toast's text."""
    result = await chat.press_data(data, chat.last.message_id)
    return result.text or ""


async def test_forged_huge_activation_ids_are_answered_not_found(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    for n in HUGE_IDS:
        for action in ("cancel", "another", "done", "again"):
            toast = await _press_forged(chat, f"a:{action}:{n}")
            assert "not in my records" in toast, (action, n, chat.transcript())
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()


async def test_forged_huge_numbers_in_menus_do_not_crash(
        app: App, alice_with_key: Person) -> None:
    chat = alice_with_key.chat
    me = alice_with_key.user.id
    for n in HUGE_IDS[1:]:
        for data in (f"h:page:{me}:{n}", f"c:page:{me}:tg:{n}:p:-1:", f"c:pick:{me}:tg:0:p:{n}:",
                     f"p:{me}:tg:0:{n}", f"b:show:{me}:tg:{n}::0", f"s:page:{n}:0::",
                     f"k:balance:{n}", f"st:menu:{n}:"):
            await _press_forged(chat, data)
    await chat.wait_idle()
    assert _went_wrong(chat) == [], chat.transcript()
