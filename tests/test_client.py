"""The real KoalaClient against the provider sandbox (and a few odd servers) over real HTTP."""

from __future__ import annotations

import io
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from bot.koala import (
    ActiveActivation,
    BadAction,
    BadKey,
    BadService,
    BadStatus,
    Banned,
    CountryOffer,
    EarlyCancelDenied,
    KoalaClient,
    KoalaError,
    NoActivation,
    NoBalance,
    NoNumbers,
    ProviderError,
    ProviderOffer,
    ServiceProhibited,
    SmsStatus,
    StatusResult,
    TransientError,
    WrongMaxPrice,
)
from bot.redact import RedactingFilter, install_log_redaction
from bot.sandbox.provider import PROHIBITED_SERVICE, ProviderSandbox

KEY = "clientKEY0123456789abcdefXYZ"
POOR = "poorKEY0123456789abcdefXYZ"


@pytest.fixture
async def sandbox() -> AsyncIterator[ProviderSandbox]:
    # The provider's clock is 7 hours behind UTC: its dates must not leak into our delays.
    sb = ProviderSandbox(cancel_delay=120.0, lifetime=1200.0, provider_utc_offset_hours=-7)
    sb.add_account(KEY, 100.0)
    sb.add_account(POOR, 1.0)
    sb.set_offer("tg", 0, 10.0, 5)
    sb.set_offer("vk", 0, 3.0, 0)  # sold out
    sb.set_offer("wa", 22, 0, 0, {2: ([15.0], 4), 5: ([13.5, 14.0], 6)})
    sb.fault_timeout = 1.0
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@asynccontextmanager
async def client_of(sandbox: ProviderSandbox, timeout: float) -> AsyncIterator[KoalaClient]:
    assert sandbox.base_url is not None
    koala = KoalaClient(sandbox.base_url + "/stubs/handler_api.php", timeout=timeout,
                        retries=2, backoff=0.01)
    try:
        yield koala
    finally:
        await koala.close()


@pytest.fixture
async def client(sandbox: ProviderSandbox) -> AsyncIterator[KoalaClient]:
    async with client_of(sandbox, timeout=0.5) as koala:
        yield koala


async def buy(client: KoalaClient, service: str = "tg", country: int = 0) -> int:
    return (await client.get_number_v2(KEY, service, country)).activation_id


# --- account and purchases -------------------------------------------------------------


async def test_balance_is_read(client: KoalaClient, sandbox: ProviderSandbox) -> None:
    assert await client.get_balance(KEY) == 100.0
    sandbox.add_account(KEY, 12.34)
    assert await client.get_balance(KEY) == 12.34


async def test_get_number_v1_buys_and_charges(client: KoalaClient,
                                              sandbox: ProviderSandbox) -> None:
    purchase = await client.get_number(KEY, "tg", 0)
    act = sandbox.activation(purchase.activation_id)
    assert purchase.phone == act.phone
    assert purchase.cost is None  # V1 does not say
    assert sandbox.balance(KEY) == 90.0


async def test_get_number_v2_gives_relative_times_whatever_the_provider_zone(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    purchase = await client.get_number_v2(KEY, "tg", 0)
    act = sandbox.activation(purchase.activation_id)
    assert purchase.activation_id == act.id
    assert purchase.phone == act.phone
    assert purchase.cost == 10.0
    assert purchase.currency == 643
    assert purchase.country_code == "7"  # a dialling code, not the country id 0
    assert purchase.can_get_another_sms is True
    assert purchase.cancel_delay == 120
    assert purchase.lifetime == 1200
    assert sandbox.balance(KEY) == 90.0


async def test_get_number_v2_honours_max_price_and_provider_filters(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    with pytest.raises(WrongMaxPrice) as info:
        await client.get_number_v2(KEY, "wa", 22, max_price=13)
    assert info.value.min_price == 13.5
    cheapest = await client.get_number_v2(KEY, "wa", 22, max_price=13.5)
    assert cheapest.cost == 13.5
    assert sandbox.activation(cheapest.activation_id).provider_id == 5

    only_2 = await client.get_number_v2(KEY, "wa", 22, provider_ids=[2])
    assert only_2.cost == 15.0
    assert sandbox.activation(only_2.activation_id).provider_id == 2
    not_5 = await client.get_number_v2(KEY, "wa", 22, except_provider_ids=[5])
    assert sandbox.activation(not_5.activation_id).provider_id == 2
    sent = [p for a, p in sandbox.requests if a == "getNumberV2"]
    assert sent[0]["maxPrice"] == "13"
    assert sent[2]["providerIds"] == "2"
    assert sent[3]["exceptProviderIds"] == "5"
    assert "providerIds" not in sent[0]  # empty filters are not sent
    with pytest.raises(NoNumbers):
        await client.get_number_v2(KEY, "wa", 22, provider_ids=[9])


# --- activation life -------------------------------------------------------------------


async def test_set_status_answers(client: KoalaClient, sandbox: ProviderSandbox) -> None:
    first = await buy(client)
    assert await client.set_status(KEY, first, 1) == "ACCESS_READY"
    sandbox.deliver_sms(first, "1111")
    assert await client.set_status(KEY, first, 3) == "ACCESS_RETRY_GET"
    sandbox.deliver_sms(first, "2222")
    assert await client.set_status(KEY, first, 6) == "ACCESS_ACTIVATION"
    assert sandbox.activation(first).status == "completed"

    second, third = await buy(client), await buy(client)
    sandbox.advance(121)
    assert await client.set_status(KEY, second, 8) == "ACCESS_CANCEL"
    assert await client.set_status(KEY, third, -1) == "ACCESS_CANCEL"
    assert sandbox.activation(second).refunded
    assert sandbox.activation(third).refunded
    assert sandbox.balance(KEY) == 90.0


async def test_set_status_errors(client: KoalaClient, sandbox: ProviderSandbox) -> None:
    act = await buy(client)
    with pytest.raises(EarlyCancelDenied):
        await client.set_status(KEY, act, 8)
    with pytest.raises(BadStatus):
        await client.set_status(KEY, act, 6)  # no code yet
    with pytest.raises(NoActivation):
        await client.set_status(KEY, 42, 8)
    assert sandbox.activation(act).status == "wait_code"


async def test_get_status_every_status(client: KoalaClient, sandbox: ProviderSandbox) -> None:
    act = await buy(client)
    assert await client.get_status(KEY, act) == StatusResult(SmsStatus.WAIT_CODE)
    sandbox.deliver_sms(act, "12345")
    assert await client.get_status(KEY, act) == StatusResult(SmsStatus.OK, "12345")
    await client.set_status(KEY, act, 3)
    assert await client.get_status(KEY, act) == StatusResult(SmsStatus.WAIT_RETRY, "12345")
    sandbox.set_resend(act)
    assert await client.get_status(KEY, act) == StatusResult(SmsStatus.WAIT_RESEND)

    other = await buy(client)
    sandbox.advance(121)
    await client.set_status(KEY, other, 8)
    assert await client.get_status(KEY, other) == StatusResult(SmsStatus.CANCEL)
    with pytest.raises(NoActivation):
        await client.get_status(KEY, 1)


async def test_get_status_v2(client: KoalaClient, sandbox: ProviderSandbox) -> None:
    act = await buy(client)
    assert await client.get_status_v2(KEY, act) == StatusResult(SmsStatus.WAIT_CODE)
    sandbox.deliver_sms(act, "777", "code 777")
    assert await client.get_status_v2(KEY, act) == StatusResult(SmsStatus.OK, "777", "code 777")
    assert sandbox.calls("getStatusV2") == 2
    assert sandbox.calls("getStatus") == 0


async def test_get_status_v2_falls_back_to_get_status_once(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    sandbox.disable_action("getStatusV2")
    act = await buy(client)
    sandbox.deliver_sms(act, "4321")
    assert await client.get_status_v2(KEY, act) == StatusResult(SmsStatus.OK, "4321")
    assert await client.get_status_v2(KEY, act) == StatusResult(SmsStatus.OK, "4321")
    assert client.has_status_v2 is False
    assert sandbox.calls("getStatusV2") == 1  # learnt: not asked again
    assert sandbox.calls("getStatus") == 2


# --- prices ----------------------------------------------------------------------------


async def test_prices_v1(client: KoalaClient) -> None:
    offers = await client.get_prices(KEY)
    assert CountryOffer(0, "tg", 10.0, 5) in offers
    assert CountryOffer(0, "vk", 3.0, 0) in offers
    assert CountryOffer(22, "wa", 13.5, 10) in offers
    assert await client.get_prices(KEY, "tg", 0) == [CountryOffer(0, "tg", 10.0, 5)]
    with pytest.raises(BadService):
        await client.get_prices(KEY, "nope")


async def test_prices_v3_lists_providers(client: KoalaClient) -> None:
    [wa] = await client.get_prices_v3(KEY, "wa", 22)
    assert (wa.country, wa.service, wa.price, wa.count) == (22, "wa", 13.5, 10)
    assert wa.providers == (ProviderOffer(5, 13.5, 6, (13.5, 14.0)),
                            ProviderOffer(2, 15.0, 4, (15.0,)))


async def test_get_offers_falls_back_to_v1_once(client: KoalaClient,
                                                sandbox: ProviderSandbox) -> None:
    assert (await client.get_offers(KEY, "wa", 22))[0].providers  # V3 while it exists
    sandbox.disable_action("getPricesV3")
    assert await client.get_offers(KEY, "tg", 0) == [CountryOffer(0, "tg", 10.0, 5)]
    assert await client.get_offers(KEY, "tg", 0) == [CountryOffer(0, "tg", 10.0, 5)]
    assert sandbox.calls("getPricesV3") == 2
    assert sandbox.calls("getPrices") == 2


# --- active activations ----------------------------------------------------------------


@pytest.mark.parametrize("style", ["bare", "wrapped_active"])
async def test_active_activations(client: KoalaClient, sandbox: ProviderSandbox,
                                  style: str) -> None:
    if style != "bare":
        sandbox.set_style(**{style: True})
    assert await client.get_active_activations(KEY) == []  # NO_ACTIVATIONS
    first, second = await buy(client), await buy(client, "wa", 22)
    sandbox.deliver_sms(second, "999", "your code 999")
    rows = {r.activation_id: r for r in await client.get_active_activations(KEY)}
    assert set(rows) == {first, second}  # string ids became ints
    assert rows[first].codes == ()
    assert rows[first].service == "tg"
    assert rows[first].phone == sandbox.activation(first).phone
    assert rows[second] == ActiveActivation(
        activation_id=second, phone=sandbox.activation(second).phone, status="0",
        service="wa", country_code="91", codes=("999",), text="your code 999", cost=13.5,
        currency=643, can_get_another_sms=True)


async def test_active_activations_with_codes_as_lists(client: KoalaClient,
                                                      sandbox: ProviderSandbox) -> None:
    sandbox.set_style(list_sms_code=True)
    act = await buy(client)
    sandbox.deliver_sms(act, "111", "first")
    await client.set_status(KEY, act, 3)
    sandbox.deliver_sms(act, "222", "second")
    [row] = await client.get_active_activations(KEY)
    assert row.codes == ("111", "222")
    assert row.code == "222"
    assert row.text == "second"


# --- provider errors -------------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["text_errors", "json_errors"])
def error_style(request: pytest.FixtureRequest, sandbox: ProviderSandbox) -> bool:
    sandbox.set_style(json_errors=request.param)
    return bool(request.param)


@pytest.fixture
async def patient_client(sandbox: ProviderSandbox) -> AsyncIterator[KoalaClient]:
    """For counting calls: an answer slow on a loaded machine (the suite runs four at
    once on two cores) must not become a time-out and a retry."""
    async with client_of(sandbox, timeout=10.0) as koala:
        yield koala


async def test_errors(patient_client: KoalaClient, sandbox: ProviderSandbox,
                      error_style: bool) -> None:
    client = patient_client
    with pytest.raises(BadKey) as bad:
        await client.get_balance("wrongKEY0123456789")
    assert bad.value.text == "BAD_KEY"
    with pytest.raises(BadKey) as no_key:
        await client.get_active_activations("wrongKEY0123456789")
    assert no_key.value.text == "NO_KEY"
    with pytest.raises(BadKey):
        await client.get_balance("")
    with pytest.raises(NoNumbers):
        await client.get_number_v2(KEY, "vk", 0)
    with pytest.raises(NoBalance):
        await client.get_number_v2(POOR, "tg", 0)
    with pytest.raises(WrongMaxPrice) as wrong:
        await client.get_number_v2(KEY, "tg", 0, max_price=9.99)
    assert wrong.value.min_price == 10.0
    with pytest.raises(BadService):
        await client.get_number_v2(KEY, "zz", 0)
    with pytest.raises(ServiceProhibited) as prohibited:
        await client.get_number_v2(KEY, PROHIBITED_SERVICE, 0)
    assert "prohibited for sale" in prohibited.value.text
    act = await buy(client)
    with pytest.raises(EarlyCancelDenied):
        await client.set_status(KEY, act, 8)
    with pytest.raises(BadStatus):
        await client.set_status(KEY, act, 3)
    with pytest.raises(NoActivation):
        await client.get_status(KEY, 5)
    sandbox.disable_action("getBalance")
    with pytest.raises(BadAction):
        await client.get_balance(KEY)
    # Errors are answers, not faults: none was retried.
    assert sandbox.calls("getBalance") == 3
    assert sandbox.balance(KEY) == 90.0  # only the one good purchase was charged


# --- transient faults ------------------------------------------------------------------

FAULTS = ["http500", "html", "garbage", "empty", "timeout", "drop"]


@pytest.mark.parametrize("kind", FAULTS)
async def test_faults_are_transient(sandbox: ProviderSandbox, client: KoalaClient,
                                    kind: str) -> None:
    sandbox.inject_faults(kind, actions={"getBalance"})
    with pytest.raises(TransientError):
        await client.get_balance(KEY)
    # The first try and two retries; aiohttp itself re-sends an idempotent GET once when
    # the connection drops (harmless for a read; purchases go as POST, which it never re-sends).
    assert sandbox.calls("getBalance") == (6 if kind == "drop" else 3)


@pytest.mark.parametrize("kind", FAULTS)
async def test_reads_are_retried(sandbox: ProviderSandbox, client: KoalaClient,
                                 kind: str) -> None:
    sandbox.inject_faults(kind, count=1)
    assert await client.get_balance(KEY) == 100.0
    assert sandbox.calls("getBalance") == 2


@pytest.mark.parametrize("kind", [*FAULTS, "lost_answer"])
async def test_a_purchase_is_never_retried(sandbox: ProviderSandbox, client: KoalaClient,
                                           kind: str) -> None:
    sandbox.inject_faults(kind, count=1, actions={"getNumberV2"})
    with pytest.raises(TransientError):
        await client.get_number_v2(KEY, "tg", 0)
    assert sandbox.calls("getNumberV2") == 1
    bought = 1 if kind == "lost_answer" else 0
    assert len(sandbox.activations) == bought
    assert sandbox.balance(KEY) == 100.0 - 10.0 * bought


@pytest.mark.parametrize("kind", ["http500", "drop", "lost_answer"])
async def test_a_status_change_is_never_retried(sandbox: ProviderSandbox, client: KoalaClient,
                                                kind: str) -> None:
    act = await buy(client)
    sandbox.inject_faults(kind, count=1, actions={"setStatus"})
    with pytest.raises(TransientError):
        await client.set_status(KEY, act, 1)
    assert sandbox.calls("setStatus") == 1


async def test_html_content_type_is_parsed_by_body(sandbox: ProviderSandbox,
                                                   client: KoalaClient) -> None:
    sandbox.set_style(html_content_type=True)
    assert await client.get_balance(KEY) == 100.0
    purchase = await client.get_number_v2(KEY, "tg", 0)
    assert purchase.cancel_delay == 120
    assert [o.price for o in await client.get_prices(KEY, "tg", 0)] == [10.0]
    with pytest.raises(NoNumbers):
        await client.get_number_v2(KEY, "vk", 0)


# --- odd answers from other compatible providers ----------------------------------------


class OddServer:
    """A provider that answers whatever the test sets, to reach shapes the sandbox lacks."""

    def __init__(self) -> None:
        self.body = ""
        self.status = 200
        self.content_type = "text/html"
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(body=self.body.encode(), status=self.status,
                            content_type=self.content_type)


@pytest.fixture
async def odd() -> AsyncIterator[tuple[OddServer, KoalaClient]]:
    server = OddServer()
    app = web.Application()
    app.router.add_route("*", "/stubs/handler_api.php", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    koala = KoalaClient(f"http://{host}:{port}/stubs/handler_api.php", timeout=1.0, retries=0)
    try:
        yield server, koala
    finally:
        await koala.close()
        await runner.cleanup()


@pytest.mark.parametrize(("body", "error", "text"), [
    ('{"status":"error","message":"NO_NUMBERS"}', NoNumbers, "NO_NUMBERS"),
    ('{"title":"BAD_KEY","details":"x"}', BadKey, "BAD_KEY"),
    ('{"error":"BAD_SERVICE"}', BadService, "BAD_SERVICE"),
    ("BANNED:2025-01-01 12:00:00", Banned, "BANNED:2025-01-01 12:00:00"),
    ("SOMETHING_NEW_HAPPENED", ProviderError, "SOMETHING_NEW_HAPPENED"),
    ("Your IP is not allowed", ProviderError, "Your IP is not allowed"),
    ('"NO_BALANCE"', NoBalance, "NO_BALANCE"),
])
async def test_odd_errors(odd: tuple[OddServer, KoalaClient], body: str,
                          error: type[ProviderError], text: str) -> None:
    server, koala = odd
    server.body = body
    with pytest.raises(error) as info:
        await koala.get_number_v2(KEY, "tg", 0)
    assert type(info.value) is error
    assert info.value.text == text
    if error is Banned:
        assert isinstance(info.value, Banned)
        assert info.value.until == "2025-01-01 12:00:00"


async def test_odd_json_wrong_max_price_reads_the_minimum_from_info(
        odd: tuple[OddServer, KoalaClient]) -> None:
    server, koala = odd
    # sms-activate's own JSON shape: the token alone, the price in "info".
    server.body = '{"status":"error","message":"WRONG_MAX_PRICE","info":{"min":21.5}}'
    with pytest.raises(WrongMaxPrice) as info:
        await koala.get_number_v2(KEY, "tg", 0)
    assert info.value.min_price == 21.5


@pytest.mark.parametrize(("body", "balance"), [
    ("ACCESS_BALANCE:12,50", 12.5),  # a decimal comma is still a price
    ('"ACCESS_BALANCE:7.25"', 7.25),  # JSON-quoted text answer
    ("\ufeffACCESS_BALANCE:3", 3.0),  # a byte-order mark
    ("ACCESS_BALANCE:3\r\n", 3.0),
])
async def test_odd_balances(odd: tuple[OddServer, KoalaClient], body: str,
                            balance: float) -> None:
    server, koala = odd
    server.body = body
    assert await koala.get_balance(KEY) == balance


async def test_odd_active_shapes(odd: tuple[OddServer, KoalaClient]) -> None:
    server, koala = odd
    server.body = ('\ufeff{"status":"success","activeActivations":['
                   '{"activationId":101,"phoneNumber":"7900","smsCode":["1","2"]},'
                   '{"activationId":"102","phoneNumber":"7901","smsCode":null}]}')
    rows = await koala.get_active_activations(KEY)
    assert [(r.activation_id, r.codes) for r in rows] == [(101, ("1", "2")), (102, ())]


async def test_odd_http_status_pages_are_transient(odd: tuple[OddServer, KoalaClient]) -> None:
    server, koala = odd
    server.status, server.body = 404, "Not Found"
    with pytest.raises(TransientError):
        await koala.get_balance(KEY)
    server.status, server.body = 429, "BAD_KEY"
    with pytest.raises(TransientError):
        await koala.get_balance(KEY)


async def test_an_unknown_answer_to_a_purchase_keeps_its_text(
        odd: tuple[OddServer, KoalaClient]) -> None:
    server, koala = odd
    server.body = '{"unexpected": true}'
    with pytest.raises(ProviderError) as info:
        await koala.get_number_v2(KEY, "tg", 0)
    assert "unexpected" in info.value.text


# --- the key never leaks ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _all_texts(exc: BaseException) -> str:
    """Everything a logger, a debugger or an error tracker could print about `exc`."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args)]
        if current.__cause__ is not None:
            parts.append("".join(traceback.format_exception(current.__cause__)))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    install_log_redaction()
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for other in root.handlers:
            for filt in [f for f in other.filters if isinstance(f, RedactingFilter)]:
                other.removeFilter(filt)


async def _fail_with(case: str, sandbox: ProviderSandbox) -> KoalaError:
    if case == "refused":
        url = f"http://127.0.0.1:{_free_port()}/stubs/handler_api.php"
    else:
        assert sandbox.base_url is not None
        url = sandbox.base_url + "/stubs/handler_api.php"
        sandbox.inject_faults({"timeout": "timeout", "http500": "http500", "drop": "drop"}[case])
    koala = KoalaClient(url, timeout=0.3, retries=0)
    try:
        await koala.get_balance(KEY)
    except KoalaError as exc:
        return exc
    finally:
        await koala.close()
    raise AssertionError("no error")


@pytest.mark.parametrize("case", ["refused", "timeout", "http500", "drop"])
async def test_the_key_never_reaches_errors_or_logs(
        sandbox: ProviderSandbox, case: str, caplog: pytest.LogCaptureFixture,
        log_stream: io.StringIO) -> None:
    exc = await _fail_with(case, sandbox)
    assert isinstance(exc, TransientError)
    assert KEY not in _all_texts(exc)
    logger = logging.getLogger("tests.client")
    try:
        raise RuntimeError(f"while calling {sandbox.base_url}?api_key={KEY}&action=x") from exc
    except RuntimeError:
        logger.exception("request to %s?api_key=%s failed", "http://p/h.php", KEY)
    logged = log_stream.getvalue()
    assert "request to http://p/h.php?api_key=***" in logged
    assert "Traceback" in logged
    assert "TransientError" in logged
    assert KEY not in logged
    assert KEY not in caplog.text


async def test_client_repr_has_no_key(client: KoalaClient) -> None:
    await client.get_balance(KEY)
    assert KEY not in repr(client)


# --- an activation the provider forgot ----------------------------------------------------


async def test_history_finds_an_activation_the_provider_forgot(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    sandbox.enable_history()
    activation_id = await buy(client)
    sandbox.complete_by_provider(activation_id, code="9090")
    with pytest.raises(NoActivation):
        await client.get_status_v2(KEY, activation_id)
    entry = await client.find_in_history(KEY, activation_id)
    assert entry is not None
    assert entry.codes == ("9090",)
    assert entry.text == "Your verification code is 9090"
    assert await client.find_in_history(KEY, 1) is None


async def test_a_provider_without_history_is_asked_once(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    activation_id = await buy(client)
    assert await client.find_in_history(KEY, activation_id) is None
    assert await client.find_in_history(KEY, activation_id) is None
    assert sandbox.calls("getHistory") == 1
    assert client.has_history is False


async def test_an_injected_error_answers_instead_of_the_action(
        client: KoalaClient, sandbox: ProviderSandbox) -> None:
    sandbox.inject_error("NO_KEY", count=1, actions={"getActiveActivations"})
    with pytest.raises(BadKey):
        await client.get_active_activations(KEY)
    assert await client.get_active_activations(KEY) == []
