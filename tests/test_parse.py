"""Pure tests of bot.koala.parse: every answer shape the provider family is known to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.koala import (
    AccountInactive,
    BadAction,
    BadKey,
    BadService,
    BadStatus,
    Banned,
    ChannelsLimit,
    CountryOffer,
    EarlyCancelDenied,
    NoActivation,
    NoBalance,
    NoNumbers,
    ProviderError,
    ProviderOffer,
    ServiceProhibited,
    ServiceUnavailableRegion,
    SmsStatus,
    SqlError,
    StatusResult,
    TransientError,
    WrongMaxPrice,
    parse,
    parse_tables,
)
from bot.koala.errors import error_from_text, is_error_token
from bot.sandbox.provider import PROHIBITED_ANSWER


def body(text: str) -> parse.Body:
    return parse.decode(text)


# --- decode ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "   \r\n", "@@#!garbage", "12345", "{not json", "[1, 2",
    "<html><body>Cloudflare</body></html>", "<!DOCTYPE html><html></html>",
    "\ufeff", "Traceback (most recent call last):\n  File x\n" + "y" * 400,
    "A" * 400,
])
def test_broken_bodies_are_transient(text: str) -> None:
    with pytest.raises(TransientError):
        parse.decode(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("ACCESS_BALANCE:12.50", "ACCESS_BALANCE:12.50"),
    ("  NO_NUMBERS \n", "NO_NUMBERS"),
    ('"STATUS_WAIT_CODE"', "STATUS_WAIT_CODE"),
    ("\ufeffACCESS_READY", "ACCESS_READY"),
    ("\ufeff  ACCESS_READY", "ACCESS_READY"),
    (PROHIBITED_ANSWER, PROHIBITED_ANSWER),
    ('{"a": 1}', {"a": 1}),
    ("\ufeff[1]", [1]),
    ('{"status":"success","activeActivations":[]}',
     {"status": "success", "activeActivations": []}),
    ('{"title":"Not found","details":"x"}', {"title": "Not found", "details": "x"}),
])
def test_answers_decode(text: str, expected: object) -> None:
    assert parse.decode(text) == expected


@pytest.mark.parametrize(("text", "error", "message"), [
    ('{"status":"error","message":"NO_NUMBERS"}', NoNumbers, "NO_NUMBERS"),
    ('{"status":"ERROR","message":"NO_BALANCE"}', NoBalance, "NO_BALANCE"),
    ('{"status":"fail","error":"BAD_KEY"}', BadKey, "BAD_KEY"),
    ('{"status":"error"}', ProviderError, "ERROR"),
    ('{"status":"error","message":"Something else"}', ProviderError, "Something else"),
    ('{"title":"BAD_KEY","details":"x"}', BadKey, "BAD_KEY"),
    ('{"title":"NO_ACTIVATION","details":"x","status":400}', NoActivation, "NO_ACTIVATION"),
    ('{"error":"BAD_SERVICE"}', BadService, "BAD_SERVICE"),
    ('{"status":"error","message":"WRONG_MAX_PRICE:3.5"}', WrongMaxPrice, "WRONG_MAX_PRICE:3.5"),
])
def test_json_errors(text: str, error: type[ProviderError], message: str) -> None:
    with pytest.raises(error) as info:
        parse.decode(text)
    assert type(info.value) is error
    assert info.value.text == message


def test_json_wrong_max_price_with_the_price_in_info() -> None:
    with pytest.raises(WrongMaxPrice) as info:
        parse.decode('{"status":"error","message":"WRONG_MAX_PRICE","info":{"min":"4,25"}}')
    assert info.value.min_price == 4.25
    with pytest.raises(WrongMaxPrice) as text_wins:
        parse.decode('{"status":"error","message":"WRONG_MAX_PRICE:5","info":{"min":9}}')
    assert text_wins.value.min_price == 5.0


# --- error tokens ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "error"), [
    ("BAD_KEY", BadKey), ("NO_KEY", BadKey), ("BAD_ACTION", BadAction),
    ("BAD_SERVICE", BadService), ("BAD_STATUS", BadStatus), ("NO_ACTIVATION", NoActivation),
    ("WRONG_ACTIVATION_ID", NoActivation), ("NO_NUMBERS", NoNumbers), ("NO_BALANCE", NoBalance),
    ("ERROR_SQL", SqlError), ("SERVICE_UNAVAILABLE_REGION", ServiceUnavailableRegion),
    ("EARLY_CANCEL_DENIED", EarlyCancelDenied), ("CHANNELS_LIMIT", ChannelsLimit),
    ("ACCOUNT_INACTIVE", AccountInactive), ("bad_key", BadKey),
    (PROHIBITED_ANSWER, ServiceProhibited),
])
def test_error_tokens(text: str, error: type[ProviderError]) -> None:
    exc = error_from_text(text)
    assert type(exc) is error
    assert exc.text == text
    assert is_error_token(text)


def test_wrong_max_price_keeps_the_minimum() -> None:
    exc = error_from_text("WRONG_MAX_PRICE:12.5")
    assert isinstance(exc, WrongMaxPrice)
    assert exc.min_price == 12.5
    comma = error_from_text("WRONG_MAX_PRICE:7,40")
    assert isinstance(comma, WrongMaxPrice)
    assert comma.min_price == 7.4
    bare = error_from_text("WRONG_MAX_PRICE")
    assert isinstance(bare, WrongMaxPrice)
    assert bare.min_price is None


def test_banned_keeps_the_date() -> None:
    exc = error_from_text("BANNED:2025-03-01 10:00:00")
    assert isinstance(exc, Banned)
    assert exc.until == "2025-03-01 10:00:00"
    assert exc.text == "BANNED:2025-03-01 10:00:00"
    bare = error_from_text("BANNED")
    assert isinstance(bare, Banned)
    assert bare.until is None


@pytest.mark.parametrize("text", ["SOMETHING_NEW", "Your IP is blocked", "null"])
def test_unknown_answers_are_provider_errors_with_their_text(text: str) -> None:
    exc = error_from_text(text)
    assert type(exc) is ProviderError
    assert exc.text == text
    assert str(exc) == text
    assert not is_error_token(text)


# --- balance and purchases ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "amount"), [
    ("ACCESS_BALANCE:12.50", 12.5), ("ACCESS_BALANCE:0", 0.0), ("ACCESS_BALANCE:12,50", 12.5),
    ('{"balance": "3.25"}', 3.25),
])
def test_balance(text: str, amount: float) -> None:
    assert parse.parse_balance(body(text)) == amount


def test_balance_errors() -> None:
    with pytest.raises(BadKey):
        parse.parse_balance(body("BAD_KEY"))
    with pytest.raises(TransientError):
        parse.parse_balance(body("ACCESS_BALANCE:lots"))
    with pytest.raises(ProviderError):
        parse.parse_balance(body('{"total": 1}'))


def test_number_v1() -> None:
    purchase = parse.parse_number_v1(body("ACCESS_NUMBER:700000001:79001234567"))
    assert (purchase.activation_id, purchase.phone, purchase.cost) == (
        700000001, "79001234567", None)
    with pytest.raises(NoNumbers):
        parse.parse_number_v1(body("NO_NUMBERS"))
    with pytest.raises(ProviderError):
        parse.parse_number_v1(body("ACCESS_NUMBER:abc:7900"))
    with pytest.raises(ProviderError):
        parse.parse_number_v1(body("ACCESS_NUMBER:12"))


V2: dict[str, Any] = {
    "activationId": 700000005,
    "phoneNumber": "79001112233",
    "activationCost": 12.5,
    "currency": 643,
    "countryCode": "7",
    "canGetAnotherSms": "1",
    # Provider wall clock with no zone: only the differences mean anything.
    "activationTime": "2025-01-01 23:59:00",
    "activationCancel": "2025-01-02 00:01:00",
    "activationEnd": "2025-01-02 00:19:00",
}


def test_number_v2() -> None:
    purchase = parse.parse_number_v2(dict(V2))
    assert purchase.activation_id == 700000005
    assert purchase.phone == "79001112233"
    assert purchase.cost == 12.5
    assert purchase.currency == 643
    assert purchase.country_code == "7"
    assert purchase.can_get_another_sms is True
    assert purchase.cancel_delay == 120
    assert purchase.lifetime == 1200
    assert purchase.provider_time == datetime(2025, 1, 1, 23, 59)


@pytest.mark.parametrize(("changes", "cancel_delay", "lifetime"), [
    ({"activationTime": None}, 120.0, 1200.0),  # no dates: the usual rules
    ({"activationCancel": "soon"}, 120.0, 1200.0),
    ({"activationEnd": "2025-01-01 23:00:00"}, 120.0, 1200.0),  # before the start: ignored
    ({"activationTime": "2025-01-01T23:59:00", "activationEnd": "2025-01-02T01:59:00"},
     120.0, 7200.0),
])
def test_number_v2_times(changes: dict[str, Any], cancel_delay: float, lifetime: float) -> None:
    data = {**V2, **changes}
    purchase = parse.parse_number_v2({k: v for k, v in data.items() if v is not None})
    assert purchase.cancel_delay == cancel_delay
    assert purchase.lifetime == lifetime


def test_number_v2_other_shapes() -> None:
    as_strings = parse.parse_number_v2({**V2, "activationId": "700000005",
                                        "activationCost": "12,50", "canGetAnotherSms": 0})
    assert as_strings.activation_id == 700000005
    assert as_strings.cost == 12.5
    assert as_strings.can_get_another_sms is False
    v1_style = parse.parse_number_v2(body("ACCESS_NUMBER:5:7900"))
    assert (v1_style.activation_id, v1_style.phone) == (5, "7900")
    with pytest.raises(NoBalance):
        parse.parse_number_v2(body("NO_BALANCE"))
    with pytest.raises(ProviderError):
        parse.parse_number_v2({"phoneNumber": "7900"})
    with pytest.raises(ProviderError):
        parse.parse_number_v2([V2])


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("ACCESS_READY", "ACCESS_READY"), ("ACCESS_RETRY_GET", "ACCESS_RETRY_GET"),
    ("ACCESS_ACTIVATION", "ACCESS_ACTIVATION"), ("ACCESS_CANCEL", "ACCESS_CANCEL"),
])
def test_set_status(text: str, expected: str) -> None:
    assert parse.parse_set_status(body(text)) == expected


def test_set_status_errors() -> None:
    with pytest.raises(EarlyCancelDenied):
        parse.parse_set_status(body("EARLY_CANCEL_DENIED"))
    with pytest.raises(ProviderError):
        parse.parse_set_status({"ok": True})


@pytest.mark.parametrize(("text", "expected"), [
    ("STATUS_WAIT_CODE", StatusResult(SmsStatus.WAIT_CODE)),
    ("STATUS_WAIT_RETRY:12345", StatusResult(SmsStatus.WAIT_RETRY, "12345")),
    ("STATUS_WAIT_RESEND", StatusResult(SmsStatus.WAIT_RESEND)),
    ("STATUS_CANCEL", StatusResult(SmsStatus.CANCEL)),
    ("STATUS_OK:12345", StatusResult(SmsStatus.OK, "12345")),
    ("STATUS_OK:G-1234:56", StatusResult(SmsStatus.OK, "G-1234:56")),  # a colon in the code
])
def test_status(text: str, expected: StatusResult) -> None:
    assert parse.parse_status(body(text)) == expected


def test_status_errors() -> None:
    with pytest.raises(NoActivation):
        parse.parse_status(body("NO_ACTIVATION"))
    with pytest.raises(ProviderError) as info:
        parse.parse_status(body("STATUS_SOMETHING_NEW"))
    assert info.value.text == "STATUS_SOMETHING_NEW"
    with pytest.raises(ProviderError):
        parse.parse_status({"status": 1})


@pytest.mark.parametrize(("data", "expected"), [
    ({"verificationType": 2, "sms": None, "call": None}, StatusResult(SmsStatus.WAIT_CODE)),
    ({"sms": {"dateTime": "x", "code": "555", "text": "code 555"}, "call": None},
     StatusResult(SmsStatus.OK, "555", "code 555")),
    ({"sms": {"code": ["1", "2"], "text": ""}}, StatusResult(SmsStatus.OK, "2")),
    ({"sms": {"code": ""}, "call": {"code": 9876, "text": "call"}},
     StatusResult(SmsStatus.OK, "9876", "call")),
    ({"sms": {"code": []}}, StatusResult(SmsStatus.WAIT_CODE)),
    ({}, StatusResult(SmsStatus.WAIT_CODE)),
])
def test_status_v2(data: dict[str, Any], expected: StatusResult) -> None:
    assert parse.parse_status_v2(data) == expected


def test_status_v2_accepts_text() -> None:
    assert parse.parse_status_v2(body("STATUS_CANCEL")) == StatusResult(SmsStatus.CANCEL)
    with pytest.raises(BadAction):
        parse.parse_status_v2(body("BAD_ACTION"))
    with pytest.raises(ProviderError):
        parse.parse_status_v2([1])


# --- active activations ------------------------------------------------------------------

ROW: dict[str, Any] = {
    "activationId": "700000001", "activationStatus": "4", "phoneNumber": "79001234567",
    "serviceCode": "tg", "countryCode": "7", "smsCode": "12345", "smsText": "code 12345",
    "activationCost": "10.50", "currency": 643, "canGetAnotherSms": "1",
}


@pytest.mark.parametrize("shape", [
    [ROW],
    {"status": "success", "activeActivations": [ROW]},
    {"activations": [ROW]},
    {"data": {"700000001": ROW}},
])
def test_active_shapes(shape: parse.Body) -> None:
    [row] = parse.parse_active(shape)
    assert row.activation_id == 700000001
    assert row.status == "4"
    assert row.phone == "79001234567"
    assert row.service == "tg"
    assert row.country_code == "7"
    assert row.codes == ("12345",)
    assert row.code == "12345"
    assert row.text == "code 12345"
    assert row.cost == 10.5
    assert row.currency == 643
    assert row.can_get_another_sms is True


def test_active_codes_and_ids() -> None:
    rows = parse.parse_active([
        {**ROW, "activationId": 1, "smsCode": ["111", "222"], "smsText": ["a", "b"]},
        {**ROW, "activationId": "2", "smsCode": None, "smsText": None},
        {**ROW, "activationId": 3, "smsCode": [], "smsText": []},
        {**ROW, "activationId": "4", "smsCode": "null"},
        {"id": "5"},
        {"activationId": "not a number"},
        "junk",
    ])
    assert [(r.activation_id, r.codes, r.text) for r in rows] == [
        (1, ("111", "222"), "b"),
        (2, (), None),
        (3, (), None),
        (4, (), "code 12345"),
        (5, (), None),
    ]
    assert rows[1].code is None


@pytest.mark.parametrize("text", ["NO_ACTIVATIONS", "NO_ACTIVATION"])
def test_no_active_activations(text: str) -> None:
    assert parse.parse_active(body(text)) == []


def test_active_empty_and_errors() -> None:
    assert parse.parse_active([]) == []
    assert parse.parse_active({"status": "success"}) == []
    with pytest.raises(BadKey):
        parse.parse_active(body("NO_KEY"))
    with pytest.raises(ProviderError):
        parse.parse_active({"something": "else"})


# --- prices ------------------------------------------------------------------------------


def test_prices_v1() -> None:
    offers = parse_tables.parse_prices_v1({
        "0": {"tg": {"cost": 10.5, "count": 3}, "wa": {"cost": "7", "count": "0"}},
        "22": {"tg": {"cost": 4, "count": 100}, "bad": {"cost": None, "count": 1}},
        "any": {"tg": {"cost": 1, "count": 1}},  # not a country id
        "16": "junk",
    })
    assert offers == [CountryOffer(0, "tg", 10.5, 3), CountryOffer(0, "wa", 7.0, 0),
                      CountryOffer(22, "tg", 4.0, 100)]
    assert parse_tables.parse_prices_v1({}) == []
    with pytest.raises(BadService):
        parse_tables.parse_prices_v1(body("BAD_SERVICE"))
    with pytest.raises(ProviderError):
        parse_tables.parse_prices_v1([])


def test_prices_v3() -> None:
    offers = parse_tables.parse_prices_v3({
        "0": {
            "tg": {"price": 10, "count": 5, "providers": {
                "1": {"count": 3, "price": [12, 10], "provider_id": 1},
                "2": {"count": 2, "price": [11], "provider_id": 2},
                "3": {"count": 0, "price": [], "provider_id": 3},
            }},
            "wa": {"providers": [{"count": 0, "price": [5], "provider_id": 7},
                                 {"count": 4, "price": "6.5", "provider_id": 8}]},
            "vk": {"price": 2, "count": 1},
        },
    })
    tg, wa, vk = offers
    assert (tg.price, tg.count) == (10.0, 5)
    assert tg.providers == (ProviderOffer(1, 10.0, 3, (10.0, 12.0)),
                            ProviderOffer(2, 11.0, 2, (11.0,)))
    # No totals given: the cheapest stocked provider and the sum of the stock.
    assert (wa.price, wa.count) == (6.5, 4)
    assert [p.provider_id for p in wa.providers] == [7, 8]
    assert vk == CountryOffer(0, "vk", 2.0, 1)


# --- helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("1", 1), (2, 2), ("3.0", 3), ("3.5", None), (True, None), (None, None), ("x", None),
    (" 7 ", 7),
])
def test_to_int(value: object, expected: int | None) -> None:
    assert parse.to_int(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("1", True), ("0", False), (1, True), (0, False), ("true", True), (None, False), ("", False),
])
def test_to_bool(value: object, expected: bool) -> None:
    assert parse.to_bool(value) is expected


@pytest.mark.parametrize("body", [
    [{"id": 5, "smsCode": ["1111", "2222"], "smsText": ["a 1111", "b 2222"], "status": "6"}],
    {"status": "success", "history": [{"activationId": "5", "smsCode": "2222",
                                       "smsText": "b 2222", "status": 6}]},
    # Keyed by id, texts only (a JSON list in a string): the code is read from the text.
    {"5": {"id": 5, "sms": '["code 1111", "code 2222"]', "smsCode": None}},
])
def test_history_in_its_shapes(body: Any) -> None:
    [entry] = parse_tables.parse_history(body)
    assert entry.activation_id == 5
    assert entry.codes[-1] == "2222"


def test_history_empty_and_errors() -> None:
    assert parse_tables.parse_history("NO_ACTIVATIONS") == []
    assert parse_tables.parse_history({"status": "success"}) == []
    with pytest.raises(BadKey):
        parse_tables.parse_history("BAD_KEY")
