"""A person opens the bot for the first time."""

from tests.conftest import Person


async def test_start_greets(app: object, alice: Person) -> None:
    await alice.chat.send("/start")
    reply = await alice.chat.wait_for("KoalaSMS")
    assert "Hi" in reply.text
