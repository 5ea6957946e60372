"""The poller at scale: what a tick costs per account (key decryptions, queries), how
often an account is asked (the adaptive interval), and that a hanging key delays only
itself."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from bench.poll_tick import statements
from bot.app import App
from bot.poller import Poller
from bot.sandbox.provider import ProviderSandbox
from bot.sandbox.telegram import TelegramEmulator
from storage.crypto import KeyBox
from storage.models import Account, Activation
from storage.repo import AccountRepo
from tests.conftest import DEMO_KEY, Person
from tests.helpers import BOB_KEY, buy, code_messages, is_code, set_key, stored
from tests.helpers_time import TimeTravel

CAROL_KEY = "carolKEY0123456789abcdefABCD"
DAVE_KEY = "daveKEY0123456789abcdefABCDE"


def person(tg: TelegramEmulator, name: str) -> Person:
    user = tg.add_user(first_name=name, language_code="en")
    return Person(user, tg.private_chat(user))


async def quiet_tick(poller: Poller) -> None:
    """One tick and the work it started (the provider answers at once here)."""
    await poller.tick()
    await asyncio.gather(*poller._running_tasks())


def count_decrypts(monkeypatch: pytest.MonkeyPatch, keybox: KeyBox) -> list[str]:
    calls: list[str] = []
    original = keybox.decrypt

    def counting(token: str) -> str:
        calls.append(token)
        return original(token)

    monkeypatch.setattr(keybox, "decrypt", counting)
    return calls


async def test_a_key_is_decrypted_once_per_account_and_again_when_it_changes(
        app: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    provider.add_account(BOB_KEY, balance=50.0)
    provider.add_account(CAROL_KEY, balance=50.0)
    bob = person(tg, "Bob")
    decrypts = count_decrypts(monkeypatch, app.keybox)
    await set_key(app, alice)
    await set_key(app, bob, BOB_KEY)
    await buy(app, alice)
    b = await buy(app, bob)
    await app.poller.stop()  # it may have ticked already: the cache is the manager's
    poller = Poller(manager=app.manager, interval=2.0, spread=0)
    for _ in range(5):
        await quiet_tick(poller)
    # One for each purchase, one for each account's polls: not one per account per tick.
    assert len(decrypts) == 2 + 2

    # Bob's key is replaced: his running number keeps its account (and its key); a
    # number bought with the new key belongs to a new account, whose key is decrypted.
    await set_key(app, bob, CAROL_KEY)
    c = await buy(app, bob)  # the purchase decrypts the key on its own
    before = len(decrypts)
    for _ in range(3):
        await quiet_tick(poller)
    assert len(decrypts) == before + 1
    provider.deliver_sms(c.provider_id, "3131")
    provider.deliver_sms(b.provider_id, "2121")
    await quiet_tick(poller)
    await bob.chat.wait_for(is_code("3131"), timeout=5)
    await bob.chat.wait_for(is_code("2121"), timeout=5)

    # The stored key of an account changes in place (any change of the encrypted value,
    # here the same key encrypted again): the cache misses and it is decrypted again.
    async with app.db() as session:
        account = await AccountRepo(session, app.keybox).current(alice.user.id)
        assert account is not None
        await session.exec(update(Account).where(Account.id == account.id)  # type: ignore[arg-type]
                           .values(key_encrypted=app.keybox.encrypt(DEMO_KEY)))
        await session.commit()
    before = len(decrypts)
    await quiet_tick(poller)
    await quiet_tick(poller)
    assert len(decrypts) == before + 1
    await poller.stop()


async def test_a_quiet_tick_makes_the_same_few_queries_for_any_number_of_accounts(
        app: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    await set_key(app, alice)
    await buy(app, alice)
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=2.0, spread=0)
    await quiet_tick(poller)  # the first tick also forgets retired keys

    async def queries_per_tick() -> int:
        counts = []
        for _ in range(3):
            with statements(app) as seen:
                await quiet_tick(poller)
            counts.append(len(seen))
        return min(counts)  # a card refresh round of its own may add to one tick

    one_account = await queries_per_tick()
    for i, key in enumerate((BOB_KEY, CAROL_KEY, DAVE_KEY)):
        provider.add_account(key, balance=50.0)
        other = person(tg, f"Person {i}")
        await set_key(app, other, key)
        await buy(app, other)
    await quiet_tick(poller)
    four_accounts = await queries_per_tick()
    assert four_accounts == one_account
    assert one_account <= 6
    await poller.stop()


async def test_an_old_number_is_polled_less_often_and_its_code_still_comes(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    travel = TimeTravel(app, provider)
    await set_key(app, alice)
    a = await buy(app, alice)
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=2.0, spread=0)
    assert poller.slow_every == 5

    assert await asks_in(poller, provider, 10) == 10  # just bought: every tick
    travel.advance(300)  # an old number now: every slow_every-th tick
    assert await asks_in(poller, provider, 10) == 2
    provider.deliver_sms(a.provider_id, "4141")
    await code_within_a_slow_poll(poller, alice, "4141")
    await poller.stop()


async def asks_in(poller: Poller, provider: ProviderSandbox, ticks: int) -> int:
    """getActiveActivations calls made over `ticks` ticks."""
    asked = provider.calls("getActiveActivations")
    for _ in range(ticks):
        await quiet_tick(poller)
    return provider.calls("getActiveActivations") - asked


async def code_within_a_slow_poll(poller: Poller, person: Person, code: str) -> None:
    for _ in range(poller.slow_every):
        await quiet_tick(poller)
        if code_messages(person.chat, code):
            break
    await person.chat.wait_for(is_code(code), timeout=5)


async def code_came_then_own_poller(app: App, person: Person, provider: ProviderSandbox,
                                    code: str) -> tuple[Activation, Poller]:
    """A number bought and its code delivered; then the app's poller is stopped and the
    test ticks one of its own."""
    await set_key(app, person)
    a = await buy(app, person)
    provider.deliver_sms(a.provider_id, code)
    await person.chat.wait_for(is_code(code), timeout=10)
    await app.poller.stop()
    return a, Poller(manager=app.manager, interval=2.0, spread=0)


async def test_a_young_number_whose_code_came_is_polled_like_an_old_one(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    """Nothing more comes to a number with its code until another is asked for, so its
    account is asked every slow_every-th tick even while the number is young."""
    a, poller = await code_came_then_own_poller(app, alice, provider, "7171")
    assert (await stored(app, a)).state == "received"
    await quiet_tick(poller)
    assert await asks_in(poller, provider, 10) == 2
    # A second SMS the provider sends anyway still comes, within slow_every ticks.
    provider.deliver_sms(a.provider_id, "8181")
    await code_within_a_slow_poll(poller, alice, "8181")
    await poller.stop()


async def test_a_number_bought_or_waiting_for_another_code_is_polled_every_tick(
        app: App, alice: Person, provider: ProviderSandbox) -> None:
    travel = TimeTravel(app, provider)
    a, poller = await code_came_then_own_poller(app, alice, provider, "5151")
    travel.advance(300)
    await quiet_tick(poller)

    # Another code asked for on an old number: every tick until it comes.
    result = await alice.chat.press_data(f"a:another:{a.id}", a.card_message_id or 0)
    assert result is not None
    assert (await stored(app, a)).state == "retry"
    asked = provider.calls("getActiveActivations")
    for _ in range(6):
        await quiet_tick(poller)
    assert provider.calls("getActiveActivations") == asked + 6

    provider.deliver_sms(a.provider_id, "6161")
    await quiet_tick(poller)
    await alice.chat.wait_for(is_code("6161"), timeout=5)
    asked = provider.calls("getActiveActivations")
    for _ in range(6):  # the new code came: slow again
        await quiet_tick(poller)
    assert provider.calls("getActiveActivations") <= asked + 2

    # A number bought now on the same account: the account is asked every tick again.
    await buy(app, alice)
    asked = provider.calls("getActiveActivations")
    for _ in range(6):
        await quiet_tick(poller)
    assert provider.calls("getActiveActivations") == asked + 6
    await poller.stop()


async def test_a_hanging_key_does_not_time_out_other_accounts_requests(
        app: App, alice: Person, tg: TelegramEmulator, provider: ProviderSandbox) -> None:
    """Two keys hang and hold the only request slot one after the other; Alice's request
    waits behind them. Its budget starts when it is sent, so it is answered."""
    await set_key(app, alice)
    hanging = []
    for name, key in (("Bob", BOB_KEY), ("Carol", CAROL_KEY)):
        provider.add_account(key, balance=50.0)
        other = person(tg, name)
        await set_key(app, other, key)
        hanging.append(await buy(app, other))
    a = await buy(app, alice)  # bought last: its account waits behind the other two
    await app.poller.stop()
    poller = Poller(manager=app.manager, interval=2.0, spread=0, request_limit=1)
    poller._request_budget = lambda: 0.5  # type: ignore[method-assign]
    provider.hold_key(BOB_KEY)
    provider.hold_key(CAROL_KEY)
    provider.deliver_sms(a.provider_id, "7171")
    try:
        await poller.tick()
        await asyncio.gather(*poller._running_tasks())
        await alice.chat.wait_for(is_code("7171"), timeout=5)
        assert poller.account_pause(a.account_id) is None  # not taken for a failure
        for h in hanging:
            assert poller.account_pause(h.account_id) is not None  # only the hanging keys
    finally:
        provider.release()
        await poller.stop()
