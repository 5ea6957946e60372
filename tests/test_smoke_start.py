"""A person opens the bot for the first time."""

from tests.conftest import Person


async def test_start_greets(app: object, alice: Person) -> None:
    await alice.chat.send("/start")
    reply = await alice.chat.wait_for("KoalaSMS")
    assert "Hi" in reply.text


async def test_a_reply_under_flood_control_arrives_late_not_never(app: object,
                                                                 alice: Person) -> None:
    alice.chat.flood(retry_after=1, count=2)
    await alice.chat.send("/start")
    reply = await alice.chat.wait_for("KoalaSMS", timeout=6)
    assert "Hi" in reply.text


async def test_an_unknown_command_is_answered(app: object, alice: Person) -> None:
    await alice.chat.send("/frobnicate")
    reply = await alice.chat.wait_for("didn't understand")
    assert "/help" in reply.text
