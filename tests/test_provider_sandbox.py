"""The provider sandbox, exercised over real HTTP (not through the bot's client)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from bot.sandbox.provider import PROHIBITED_ANSWER, ProviderSandbox

KEY = "key-a"
OTHER = "key-b"


class Api:
    def __init__(self, sb: ProviderSandbox, url: str, session: aiohttp.ClientSession) -> None:
        self.sb, self.url, self.session = sb, url, session

    async def raw(self, action: str, *, key: str | None = KEY, method: str = "GET",
                  **params: Any) -> tuple[int, str, str]:
        q = {k: str(v) for k, v in params.items()}
        q["action"] = action
        if key is not None:
            q["api_key"] = key
        if method == "GET":
            ctx = self.session.get(self.url, params=q)
        else:
            ctx = self.session.post(self.url, data=q)
        async with ctx as r:
            return r.status, await r.text(), r.content_type

    async def text(self, action: str, **params: Any) -> str:
        status, body, _ = await self.raw(action, **params)
        assert status == 200
        return body

    async def json(self, action: str, **params: Any) -> Any:
        return json.loads(await self.text(action, **params))

    async def control(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        base = self.url.removesuffix("/stubs/handler_api.php")
        if payload is None:
            async with self.session.get(f"{base}/control/{name}") as r:
                assert r.status == 200
                return await r.json()
        async with self.session.post(f"{base}/control/{name}", json=payload) as r:
            return r.status, await r.text()


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    sb = ProviderSandbox(seed=7)
    sb.add_account(KEY, 100.0)
    sb.add_account(OTHER, 5.0)
    sb.set_offer("tg", 0, 25.0, 10)
    sb.set_offer("tg", 16, 40.0, 3)
    sb.set_offer("tg", 6, 9.0, 0)  # out of stock, cheapest on paper
    sb.set_offer("wa", 22, 15.0, 5, {2: ([15.0], 3), 5: ([13.5], 2), 6: ([18.0, 19.0], 4)})
    url = await sb.start()
    async with aiohttp.ClientSession() as session:
        yield Api(sb, url, session)
    await sb.stop()


async def buy(api: Api, service: str = "tg", country: int = 0, key: str = KEY) -> int:
    data = await api.json("getNumberV2", service=service, country=country, key=key)
    return int(data["activationId"])


# ------------------------------------------------------------------ basics


async def test_balance_and_key_errors(api: Api) -> None:
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"
    api.sb.add_account(KEY, 12.5)
    assert await api.text("getBalance") == "ACCESS_BALANCE:12.50"
    assert await api.text("getBalance", key=None) == "NO_KEY"
    assert await api.text("getBalance", key="nope") == "BAD_KEY"
    assert await api.text("getActiveActivations", key="nope") == "NO_KEY"
    assert await api.text("frobnicate") == "BAD_ACTION"
    assert await api.text("") == "BAD_ACTION"


async def test_post_form_and_request_log_without_key(api: Api) -> None:
    status, body, _ = await api.raw("getBalance", method="POST")
    assert (status, body) == (200, "ACCESS_BALANCE:100.00")
    await api.text("getStatus", id=5)
    assert api.sb.requests == [("getBalance", {}), ("getStatus", {"id": "5"})]
    assert KEY not in repr(api.sb.requests)
    assert api.sb.calls("getStatus") == 1


async def test_plain_content_types(api: Api) -> None:
    assert (await api.raw("getBalance"))[2] == "text/plain"
    assert (await api.raw("getPrices"))[2] == "application/json"


# --------------------------------------------------------------- purchase


async def test_get_number_text(api: Api) -> None:
    answer = await api.text("getNumber", service="tg", country=0)
    prefix, act_id, phone = answer.split(":")
    assert prefix == "ACCESS_NUMBER"
    assert act_id == "700000001"
    assert phone.startswith("79")
    assert len(phone) == 11
    assert api.sb.balance(KEY) == 75.0
    assert api.sb.activation(700000001).cost == 25.0
    prices = await api.json("getPrices", service="tg", country=0)
    assert prices == {"0": {"tg": {"cost": 25.0, "count": 9}}}


async def test_get_number_v2_shape_and_times(api: Api) -> None:
    before = time.time()
    data = await api.json("getNumberV2", service="tg", country=16)
    assert data["activationId"] == 700000001
    assert isinstance(data["phoneNumber"], str)
    assert data["phoneNumber"].startswith("447")
    assert data["activationCost"] == 40.0
    assert data["currency"] == 643
    assert data["countryCode"] == "44"  # a dialling code, not the country id 16
    assert data["canGetAnotherSms"] == "1"
    parse = [datetime.strptime(data[k], "%Y-%m-%d %H:%M:%S")
             for k in ("activationTime", "activationCancel", "activationEnd")]
    assert parse[1] - parse[0] == timedelta(seconds=120)
    assert parse[2] - parse[0] == timedelta(seconds=1200)
    # Provider wall clock (UTC+3) with no zone marker.
    provider_now = datetime.fromtimestamp(before, tz=timezone(timedelta(hours=3)))
    assert abs((parse[0] - provider_now.replace(tzinfo=None)).total_seconds()) < 5


async def test_ids_increase_and_phones_are_deterministic(api: Api) -> None:
    ids = [await buy(api) for _ in range(3)]
    assert ids == [700000001, 700000002, 700000003]
    phones = [api.sb.activation(i).phone for i in ids]
    assert len(set(phones)) == 3
    other = ProviderSandbox(seed=7)
    other.add_account(KEY)
    other.set_offer("tg", 0, 25.0, 10)
    url = await other.start()
    try:
        again = Api(other, url, api.session)
        assert [api.sb.activation(await buy(again)).phone for _ in range(3)] == phones
    finally:
        await other.stop()


async def test_purchase_errors_change_nothing(api: Api) -> None:
    assert await api.text("getNumberV2", service="zz", country=0) == "BAD_SERVICE"
    assert await api.text("getNumberV2", country=0) == "BAD_SERVICE"
    assert await api.text("getNumberV2", service="prohibited", country=0) == PROHIBITED_ANSWER
    assert await api.text("getNumberV2", service="tg", country=6) == "NO_NUMBERS"
    assert await api.text("getNumberV2", service="tg", country=99) == "NO_NUMBERS"
    assert await api.text("getNumber", service="tg", country=0, maxPrice=20) == (
        "WRONG_MAX_PRICE:25")
    assert await api.text("getNumberV2", service="tg", country=0, key=OTHER) == "NO_BALANCE"
    assert api.sb.balance(KEY) == 100.0
    assert api.sb.balance(OTHER) == 5.0
    assert api.sb.activations == []


async def test_max_price_at_limit_buys(api: Api) -> None:
    assert (await api.text("getNumber", service="tg", country=0, maxPrice=25)).startswith(
        "ACCESS_NUMBER:")


async def test_any_country_picks_cheapest_in_stock(api: Api) -> None:
    for country in ("any", ""):
        act = api.sb.activation(await buy(api, country=country))  # type: ignore[arg-type]
        assert act.country == 0  # 6 is cheaper but out of stock; 16 costs more


async def test_providers_cheapest_and_filters(api: Api) -> None:
    act = api.sb.activation(await buy(api, "wa", 22))
    assert (act.provider_id, act.cost) == (5, 13.5)
    data = await api.json("getNumberV2", service="wa", country=22, exceptProviderIds="5,2")
    assert api.sb.activation(data["activationId"]).provider_id == 6
    assert data["activationCost"] == 18.0
    data = await api.json("getNumberV2", service="wa", country=22, providerIds="2")
    assert (data["activationCost"], api.sb.activation(data["activationId"]).provider_id) == (
        15.0, 2)
    assert await api.text("getNumberV2", service="wa", country=22, providerIds="9") == (
        "NO_NUMBERS")


# ------------------------------------------------------------------ status


async def test_set_status_errors(api: Api) -> None:
    act_id = await buy(api)
    assert await api.text("setStatus", id=999, status=8) == "NO_ACTIVATION"
    assert await api.text("setStatus", id="x", status=8) == "NO_ACTIVATION"
    assert await api.text("setStatus", id=act_id, status=8, key=OTHER) == "NO_ACTIVATION"
    assert await api.text("getStatus", id=act_id, key=OTHER) == "NO_ACTIVATION"
    assert await api.text("setStatus", id=act_id, status=5) == "BAD_STATUS"
    assert await api.text("setStatus", id=act_id, status="") == "BAD_STATUS"
    assert await api.text("setStatus", id=act_id, status=3) == "BAD_STATUS"  # no code yet
    assert await api.text("setStatus", id=act_id, status=6) == "BAD_STATUS"
    assert await api.text("setStatus", id=act_id, status=1) == "ACCESS_READY"


async def test_cancel_window_and_refund(api: Api) -> None:
    act_id = await buy(api)
    assert api.sb.balance(KEY) == 75.0
    assert await api.text("setStatus", id=act_id, status=8) == "EARLY_CANCEL_DENIED"
    api.sb.advance(119)
    assert await api.text("setStatus", id=act_id, status=-1) == "EARLY_CANCEL_DENIED"
    api.sb.advance(1)
    assert await api.text("setStatus", id=act_id, status=8) == "ACCESS_CANCEL"
    assert api.sb.balance(KEY) == 100.0
    act = api.sb.activation(act_id)
    assert (act.status, act.refunded) == ("cancelled", True)
    assert await api.text("getStatus", id=act_id) == "STATUS_CANCEL"
    assert await api.text("getStatusV2", id=act_id) == "STATUS_CANCEL"
    # Finished: no longer exists for setStatus, and no double refund.
    assert await api.text("setStatus", id=act_id, status=8) == "NO_ACTIVATION"
    assert api.sb.balance(KEY) == 100.0


async def test_cannot_cancel_after_code(api: Api) -> None:
    act_id = await buy(api)
    api.sb.advance(300)
    api.sb.deliver_sms(act_id, "1234")
    assert await api.text("setStatus", id=act_id, status=8) == "BAD_STATUS"
    assert api.sb.balance(KEY) == 75.0


async def test_status_flow_with_retry_and_resend(api: Api) -> None:
    act_id = await buy(api)
    assert await api.text("getStatus", id=act_id) == "STATUS_WAIT_CODE"
    assert await api.json("getStatusV2", id=act_id) == {
        "verificationType": 2, "sms": None, "call": None}
    api.sb.deliver_sms(act_id, "111111", "Telegram code 111111")
    assert await api.text("getStatus", id=act_id) == "STATUS_OK:111111"
    v2 = await api.json("getStatusV2", id=act_id)
    assert v2["sms"]["code"] == "111111"
    assert v2["sms"]["text"] == "Telegram code 111111"
    datetime.strptime(v2["sms"]["dateTime"], "%Y-%m-%d %H:%M:%S")
    assert await api.text("setStatus", id=act_id, status=3) == "ACCESS_RETRY_GET"
    assert await api.text("getStatus", id=act_id) == "STATUS_WAIT_RETRY:111111"
    api.sb.deliver_sms(act_id, "222222")
    assert await api.text("getStatus", id=act_id) == "STATUS_OK:222222"
    assert (await api.json("getStatusV2", id=act_id))["sms"]["text"] == (
        "Your verification code is 222222")
    api.sb.set_resend(act_id)
    assert await api.text("getStatus", id=act_id) == "STATUS_WAIT_RESEND"
    assert await api.text("setStatus", id=act_id, status=6) == "ACCESS_ACTIVATION"
    act = api.sb.activation(act_id)
    assert (act.status, act.codes, act.refunded) == ("completed", ["111111", "222222"], False)
    assert await api.text("getStatus", id=act_id) == "STATUS_OK:222222"
    assert await api.text("setStatus", id=act_id, status=1) == "NO_ACTIVATION"
    assert api.sb.balance(KEY) == 75.0


async def test_retry_refused_when_no_second_sms(api: Api) -> None:
    api.sb.set_offer("wa", 0, 30.0, 2, another_sms=False)
    data = await api.json("getNumberV2", service="wa", country=0)
    assert data["canGetAnotherSms"] == "0"
    api.sb.deliver_sms(data["activationId"], "5555")
    assert await api.text("setStatus", id=data["activationId"], status=3) == "BAD_STATUS"


async def test_lifetime_expiry(api: Api) -> None:
    silent, answered = await buy(api), await buy(api)
    api.sb.deliver_sms(answered, "4242")
    assert api.sb.balance(KEY) == 50.0
    api.sb.advance(1199)
    assert await api.text("getStatus", id=silent) == "STATUS_WAIT_CODE"
    api.sb.advance(1)
    assert await api.text("getStatus", id=silent) == "STATUS_CANCEL"
    assert await api.text("getStatus", id=answered) == "STATUS_OK:4242"
    s, a = api.sb.activation(silent), api.sb.activation(answered)
    assert (s.status, s.refunded, s.expired) == ("cancelled", True, True)
    assert (a.status, a.refunded, a.expired) == ("completed", False, True)
    assert api.sb.balance(KEY) == 75.0
    assert await api.text("getActiveActivations") == "NO_ACTIVATIONS"
    api.sb.deliver_sms(silent, "late")  # a late SMS is dropped
    assert api.sb.activation(silent).codes == []


async def test_expiry_is_seen_by_a_request_without_inspection(api: Api) -> None:
    act_id = await buy(api)
    api.sb._clock_offset += 5000  # bypass advance(): the request itself must expire it
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"
    assert api.sb.activation(act_id).refunded


async def test_custom_delays() -> None:
    sb = ProviderSandbox(cancel_delay=0, lifetime=60, provider_utc_offset_hours=0)
    sb.add_account(KEY)
    sb.set_offer("tg", 0, 1.0, 1)
    url = await sb.start()
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(sb, url, session)
            data = await api.json("getNumberV2", service="tg", country=0)
            assert data["activationCancel"] == data["activationTime"]
            utc = datetime.fromtimestamp(sb.now(), tz=UTC).replace(tzinfo=None)
            start = datetime.strptime(data["activationTime"], "%Y-%m-%d %H:%M:%S")
            assert abs((utc - start).total_seconds()) < 5
            assert await api.text("setStatus", id=data["activationId"], status=8) == (
                "ACCESS_CANCEL")
    finally:
        await sb.stop()


# ------------------------------------------------------------------ prices


async def test_prices(api: Api) -> None:
    prices = await api.json("getPrices")
    assert prices["0"]["tg"] == {"cost": 25.0, "count": 10}
    assert prices["6"]["tg"] == {"cost": 9.0, "count": 0}
    assert prices["22"]["wa"] == {"cost": 13.5, "count": 9}
    assert set(await api.json("getPrices", service="wa")) == {"22"}
    assert set((await api.json("getPrices", country=0))["0"]) == {"tg"}
    assert await api.json("getPrices", country=55) == {}
    assert await api.text("getPrices", service="zz") == "BAD_SERVICE"


async def test_prices_v2(api: Api) -> None:
    v2 = await api.json("getPricesV2", service="wa", country=22)
    assert v2 == {"22": {"wa": {"13.5": 2, "15": 3, "18": 2, "19": 2}}}
    assert await api.json("getPricesV2", service="tg", country=6) == {"6": {"tg": {"9": 0}}}
    assert await api.text("getPricesV2", service="zz") == "BAD_SERVICE"


async def test_prices_v3(api: Api) -> None:
    v3 = await api.json("getPricesV3", service="wa", country=22)
    assert v3 == {"22": {"wa": {"price": 13.5, "count": 9, "providers": {
        "2": {"count": 3, "price": [15.0], "provider_id": 2},
        "5": {"count": 2, "price": [13.5], "provider_id": 5},
        "6": {"count": 4, "price": [18.0, 19.0], "provider_id": 6},
    }}}}
    for _ in range(2):
        await buy(api, "wa", 22)
    v3 = await api.json("getPricesV3", service="wa", country=22)
    assert v3["22"]["wa"]["price"] == 15.0
    assert v3["22"]["wa"]["providers"]["5"] == {"count": 0, "price": [13.5], "provider_id": 5}
    assert await api.text("getPricesV3", service="zz") == "BAD_SERVICE"


# -------------------------------------------------------- active activations


async def test_active_activations(api: Api) -> None:
    assert await api.text("getActiveActivations") == "NO_ACTIVATIONS"
    first, second = await buy(api), await buy(api, country=16)
    api.sb.deliver_sms(first, "777", "code 777")
    listed = await api.json("getActiveActivations")
    assert [a["activationId"] for a in listed] == [str(first), str(second)]
    one = listed[0]
    assert one["smsCode"] == "777"
    assert one["smsText"] == "code 777"
    assert one["serviceCode"] == "tg"
    assert one["countryCode"] == "7"
    assert one["countryName"] == "Russia"
    assert one["activationCost"] == 25.0
    assert one["currency"] == 643
    assert one["canGetAnotherSms"] == "1"
    assert one["activationStatus"] == 0
    assert one["phoneNumber"] == api.sb.activation(first).phone
    assert listed[1]["smsCode"] is None
    assert listed[1]["smsText"] is None
    await api.text("setStatus", id=first, status=1)
    assert (await api.json("getActiveActivations"))[0]["activationStatus"] == 1
    await api.text("setStatus", id=first, status=6)
    assert [a["activationId"] for a in await api.json("getActiveActivations")] == [str(second)]
    assert await api.text("getActiveActivations", key=OTHER) == "NO_ACTIVATIONS"


async def test_active_styles(api: Api) -> None:
    act_id = await buy(api)
    api.sb.deliver_sms(act_id, "1")
    api.sb.deliver_sms(act_id, "2")
    api.sb.set_style(wrapped_active=True, list_sms_code=True)
    data = await api.json("getActiveActivations")
    assert data["status"] == "success"
    (one,) = data["activeActivations"]
    assert one["smsCode"] == ["1", "2"]
    assert one["smsText"] == ["Your verification code is 1", "Your verification code is 2"]


# ------------------------------------------------------------------ styles


async def test_json_errors_and_html_content_type(api: Api) -> None:
    api.sb.set_style(json_errors=True)
    assert await api.json("getNumberV2", service="tg", country=6) == {
        "status": "error", "message": "NO_NUMBERS"}
    wrong = await api.json("getNumberV2", service="tg", country=0, maxPrice=1)
    assert wrong["message"] == "WRONG_MAX_PRICE:25"
    assert await api.json("getBalance", key="bad") == {"status": "error", "message": "BAD_KEY"}
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"  # successes unchanged
    api.sb.set_style(json_errors=False, html_content_type=True)
    for action in ("getBalance", "getPrices", "nope"):
        assert (await api.raw(action))[2] == "text/html"
    with pytest.raises(ValueError, match="unknown style"):
        api.sb.set_style(fancy=True)


async def test_disable_action(api: Api) -> None:
    act_id = await buy(api)
    for action in ("getStatusV2", "getPricesV3", "getNumberV2", "getActiveActivations"):
        api.sb.disable_action(action)
    assert await api.text("getStatusV2", id=act_id) == "BAD_ACTION"
    assert await api.text("getPricesV3") == "BAD_ACTION"
    assert await api.text("getNumberV2", service="tg", country=0) == "BAD_ACTION"
    assert await api.text("getActiveActivations") == "BAD_ACTION"
    assert await api.text("getStatus", id=act_id) == "STATUS_WAIT_CODE"
    api.sb.enable_action("getStatusV2")
    assert (await api.json("getStatusV2", id=act_id))["sms"] is None


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize(("kind", "status", "body"), [
    ("http500", 502, "Bad Gateway"),
    ("garbage", 200, "@@#!garbage"),
    ("empty", 200, ""),
])
async def test_simple_faults_reject_before_processing(
        api: Api, kind: str, status: int, body: str) -> None:
    api.sb.inject_faults(kind, count=1)
    got = await api.raw("getNumberV2", service="tg", country=0)
    assert got[:2] == (status, body)
    assert api.sb.balance(KEY) == 100.0
    assert api.sb.activations == []
    assert api.sb.fault_log == [("getNumberV2", kind)]
    assert api.sb.calls("getNumberV2") == 1  # logged although rejected
    assert (await api.json("getNumberV2", service="tg", country=0))["activationCost"] == 25.0


async def test_html_fault(api: Api) -> None:
    api.sb.inject_faults("html")
    status, body, ctype = await api.raw("getBalance")
    assert status == 200
    assert ctype == "text/html"
    assert body.startswith("<html>")
    assert "Cloudflare" in body


async def test_fault_every_count_and_actions(api: Api) -> None:
    api.sb.inject_faults("http500", every=2, count=2, actions={"getBalance"})
    statuses = [(await api.raw("getBalance"))[0] for _ in range(6)]
    assert statuses == [200, 502, 200, 500, 200, 200]
    assert (await api.raw("getPrices"))[0] == 200
    api.sb.clear_faults()
    api.sb.inject_faults("empty", actions={"getStatus"})
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"
    assert await api.text("getStatus", id=1) == ""
    api.sb.clear_faults()
    assert await api.text("getStatus", id=1) == "NO_ACTIVATION"
    with pytest.raises(ValueError, match="unknown fault"):
        api.sb.inject_faults("gremlins")


async def test_lost_answer_executes_the_purchase(api: Api) -> None:
    api.sb.inject_faults("lost_answer", count=1, actions={"getNumberV2"})
    status, _, _ = await api.raw("getNumberV2", service="tg", country=0)
    assert status == 502
    assert api.sb.balance(KEY) == 75.0
    (act,) = api.sb.activations
    assert act.status == "wait_code"
    listed = await api.json("getActiveActivations")  # the way to find it again
    assert listed[0]["activationId"] == str(act.id)


async def test_timeout_fault_and_fast_stop(api: Api) -> None:
    api.sb.fault_timeout = 0.5
    api.sb.inject_faults("timeout", count=1)
    with pytest.raises(TimeoutError):
        await api.session.get(api.url, params={"api_key": KEY, "action": "getBalance"},
                              timeout=aiohttp.ClientTimeout(total=0.2))
    # The fault was used up; the held request executed nothing.
    assert api.sb.calls("getBalance") == 1
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"
    api.sb.clear_faults()
    api.sb.fault_timeout = 30
    api.sb.inject_faults("timeout")
    pending = asyncio.ensure_future(api.raw("getBalance"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await api.sb.stop()
    assert time.monotonic() - started < 2
    # stop() releases the held request: a 504, or a closed socket if shutdown wins.
    (outcome,) = await asyncio.gather(pending, return_exceptions=True)
    if not isinstance(outcome, aiohttp.ClientError):
        assert isinstance(outcome, tuple)
        assert outcome[0] == 504


async def test_drop_fault(api: Api) -> None:
    # POST: aiohttp's client silently retries an idempotent GET once on a disconnect.
    api.sb.inject_faults("drop", count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.raw("getNumberV2", method="POST", service="tg", country=0)
    assert api.sb.activations == []
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"


async def test_drop_then_get_is_retried_by_aiohttp(api: Api) -> None:
    # Documents a client-side trap: one dropped GET reaches the provider twice.
    api.sb.inject_faults("drop", count=1)
    assert await api.text("getBalance") == "ACCESS_BALANCE:100.00"
    assert api.sb.calls("getBalance") == 2


# ---------------------------------------------------------------- control


async def test_control_api(api: Api) -> None:
    act_id = await buy(api)
    status, body = await api.control("sms", {"id": act_id, "code": "9999", "text": "t 9999"})
    assert status == 200
    assert json.loads(body)["ok"] is True
    assert await api.text("getStatus", id=act_id) == "STATUS_OK:9999"
    assert (await api.control("sms", {"id": 1, "code": "1"}))[0] == 404
    assert (await api.control("sms", {"code": "1"}))[0] == 404
    before = api.sb.now()
    assert (await api.control("advance", {"seconds": 600}))[0] == 200
    assert api.sb.now() - before >= 600
    assert (await api.control("faults", {"kind": "garbage", "count": 1,
                                         "actions": ["getBalance"]}))[0] == 200
    assert await api.text("getBalance") == "@@#!garbage"
    await api.control("faults", {"kind": "empty"})
    assert await api.text("getBalance") == ""
    assert (await api.control("clear_faults", {}))[0] == 200
    assert await api.text("getBalance") == "ACCESS_BALANCE:75.00"
    assert (await api.control("faults", {"kind": "bogus"}))[0] == 400
    assert (await api.control("account", {"api_key": "new", "balance": 3.5}))[0] == 200
    assert await api.text("getBalance", key="new") == "ACCESS_BALANCE:3.50"
    second = await buy(api)
    assert (await api.control("resend", {"id": second}))[0] == 200
    assert await api.text("getStatus", id=second) == "STATUS_WAIT_RESEND"
    assert (await api.control("style", {"json_errors": True}))[0] == 200
    assert await api.json("getStatus", id=1) == {"status": "error", "message": "NO_ACTIVATION"}
    assert (await api.control("disable", {"action": "getStatusV2"}))[0] == 200
    assert "BAD_ACTION" in await api.text("getStatusV2", id=second)
    state = await api.control("state")
    assert state["accounts"]["new"] == 3.5
    assert [a["id"] for a in state["activations"]] == [act_id, second]
    assert state["activations"][0]["codes"] == ["9999"]
    assert (await api.control("nope", {}))[0] == 404
    base = api.url.removesuffix("/stubs/handler_api.php")
    async with api.session.post(f"{base}/control/advance", data=b"{not json") as r:
        assert r.status == 400
    # Control calls are not provider requests.
    assert all(not a.startswith("control") for a, _ in api.sb.requests)


# ------------------------------------------------------------------- demo


def test_demo_catalogue() -> None:
    sb = ProviderSandbox()
    sb.load_demo_catalogue()
    offers = sb._offers
    services = {s for s, _ in offers}
    countries = {c for _, c in offers}
    assert {"tg", "wa", "go", "ig", "fb", "vk", "ds", "tw", "am", "ot"} <= services
    assert {0, 1, 2, 6, 12, 16, 22, 43, 62, 73, 78, 187} <= countries
    assert any(o.count == 0 for o in offers.values())
    assert sum(len(o.providers) > 1 for o in offers.values()) >= 3
    again = ProviderSandbox()
    again.load_demo_catalogue()
    assert {k: o.count for k, o in again._offers.items()} == {
        k: o.count for k, o in offers.items()}


async def test_delayed_answer_executes_after_or_before_the_hold(api: Api) -> None:
    async def arrived(n: int) -> None:
        for _ in range(3000):  # up to 30 s on a loaded machine
            if api.sb.calls("getNumberV2") >= n:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the request did not arrive")

    api.sb.delay_answers(1.0, actions={"getNumberV2"})
    pending = asyncio.ensure_future(api.json("getNumberV2", service="tg", country=0))
    await arrived(1)
    assert api.sb.activations == []  # held, not executed yet
    answer = await pending
    assert [a.id for a in api.sb.activations] == [answer["activationId"]]
    api.sb.delay_answers(5.0, actions={"getNumberV2"}, execute_first=True)
    pending = asyncio.ensure_future(api.json("getNumberV2", service="tg", country=0))
    await arrived(2)
    assert len(api.sb.activations) == 2  # charged at once, answered late
    assert not pending.done()
    pending.cancel()
    assert api.sb.balance(KEY) == 50.0


async def test_web_panel_purchase(api: Api) -> None:
    act = api.sb.buy_in_panel(KEY, "tg", 16)
    assert (act.country, act.cost) == (16, 40.0)
    assert api.sb.balance(KEY) == 60.0
    listed = await api.json("getActiveActivations")
    assert [row["activationId"] for row in listed] == [str(act.id)]
    with pytest.raises(ValueError, match="NO_NUMBERS"):
        api.sb.buy_in_panel(KEY, "tg", 6)
