"""Pure functions that turn a provider's body into typed results or exceptions.

Bodies are decided by their content, never by the Content-Type header: providers send
JSON and plain text alike as text/html.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.koala.errors import (
    ProviderError,
    TransientError,
    WrongMaxPrice,
    error_from_text,
    is_error_token,
)
from bot.koala.models import (
    DEFAULT_CANCEL_DELAY,
    DEFAULT_LIFETIME,
    ActiveActivation,
    Purchase,
    SmsStatus,
    StatusResult,
)

# A plain-text answer looks like a token (ACCESS_BALANCE:1.5) or a short sentence; anything
# else (binary junk, a stack trace) is a broken answer, not a provider's error.
_TEXT_ANSWER = re.compile(r"^[A-Za-z][\w .,:;'()/+\-]{0,300}$")

Body = str | dict[str, Any] | list[Any]


def decode(body: str) -> Body:
    """Classify a body: JSON value, plain-text answer, or TransientError."""
    text = body.strip().lstrip("\ufeff").strip()  # a BOM can hide leading blanks
    if not text:
        raise TransientError("empty answer from the provider")
    if text[0] in "{[":
        try:
            value = json.loads(text)
        except ValueError:
            raise TransientError("unparsable JSON from the provider") from None
        if isinstance(value, dict | list):
            _raise_json_error(value)
            return value
    if text[0] == "<" or text.lower().startswith("<!doctype"):
        raise TransientError("an HTML page instead of an answer (proxy or maintenance page)")
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]  # some providers JSON-quote their plain answers
    if not _TEXT_ANSWER.match(text):
        raise TransientError("unparsable answer from the provider")
    return text


def _raise_json_error(value: dict[str, Any] | list[Any]) -> None:
    """Errors some compatible providers send as JSON."""
    if not isinstance(value, dict):
        return
    status = str(value.get("status", "")).lower()
    if status in {"error", "fail", "failed"}:
        error = error_from_text(str(value.get("message") or value.get("error") or "ERROR"))
        info = value.get("info")
        if isinstance(error, WrongMaxPrice) and error.min_price is None and isinstance(info,
                                                                                   dict):
            # sms-activate sends the bare token and puts the current price in info.min.
            error.min_price = to_float(info.get("min"))
        raise error
    if "title" in value and is_error_token(str(value["title"])):
        raise error_from_text(str(value["title"]))
    if "error" in value and isinstance(value["error"], str) and len(value) <= 3:
        raise error_from_text(value["error"])


def expect_text(body: Body, prefix: str) -> str:
    """Return what follows `prefix` in a text answer, or raise the matching error."""
    if isinstance(body, str):
        if body == prefix or body.startswith(prefix + ":"):
            return body[len(prefix) + 1 :]
        raise error_from_text(body)
    raise ProviderError(f"unexpected JSON answer: {_short(body)}")


def fail(body: Body) -> ProviderError:
    """The error for an answer of the wrong kind."""
    if isinstance(body, str):
        return error_from_text(body)
    return ProviderError(f"unexpected answer: {_short(body)}")


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:197] + "..."


def to_float(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def to_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        number = to_float(value)
        return int(number) if number is not None and number.is_integer() else None


def to_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def parse_balance(body: Body) -> float:
    if isinstance(body, dict):
        number = to_float(body.get("balance"))
        if number is not None:
            return number
    amount = to_float(expect_text(body, "ACCESS_BALANCE"))
    if amount is None:
        raise TransientError("unparsable balance")
    return amount


def parse_number_v1(body: Body) -> Purchase:
    rest = expect_text(body, "ACCESS_NUMBER")
    ident, _, phone = rest.partition(":")
    activation_id = to_int(ident)
    if activation_id is None or not phone:
        raise ProviderError(f"unexpected answer: {_short(body)}")
    return Purchase(activation_id=activation_id, phone=phone.strip(), cost=None)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text[:26], fmt)
        except ValueError:
            continue
    return None


def _delay(start: datetime | None, end: datetime | None, default: float) -> float:
    """Seconds between two provider times; the zone cancels out (contradiction 5)."""
    if start is None or end is None:
        return default
    seconds = (end - start).total_seconds()
    return seconds if 0 <= seconds <= 7 * 24 * 3600 else default


def parse_number_v2(body: Body) -> Purchase:
    if isinstance(body, str) and body.startswith("ACCESS_NUMBER"):
        return parse_number_v1(body)  # a provider that answers V2 like V1
    if not isinstance(body, dict):
        raise fail(body)
    activation_id = to_int(body.get("activationId"))
    phone = body.get("phoneNumber")
    if activation_id is None or not phone:
        raise ProviderError(f"unexpected answer: {_short(body)}")
    start = _parse_time(body.get("activationTime"))
    return Purchase(
        activation_id=activation_id,
        phone=str(phone),
        cost=to_float(body.get("activationCost")),
        currency=to_int(body.get("currency")),
        country_code=None if body.get("countryCode") is None else str(body["countryCode"]),
        can_get_another_sms=to_bool(body.get("canGetAnotherSms")),
        cancel_delay=_delay(start, _parse_time(body.get("activationCancel")), DEFAULT_CANCEL_DELAY),
        lifetime=_delay(start, _parse_time(body.get("activationEnd")), DEFAULT_LIFETIME),
        provider_time=start,
    )


def parse_set_status(body: Body) -> str:
    if isinstance(body, str) and body.startswith("ACCESS_"):
        return body
    raise fail(body)


def parse_status(body: Body) -> StatusResult:
    if not isinstance(body, str):
        raise fail(body)
    head, _, tail = body.partition(":")
    try:
        status = SmsStatus(head)
    except ValueError:
        raise error_from_text(body) from None
    return StatusResult(status, tail or None)


def parse_status_v2(body: Body) -> StatusResult:
    """getStatusV2: JSON with the last SMS (or call); text statuses are accepted too."""
    if isinstance(body, str):
        return parse_status(body)
    if not isinstance(body, dict):
        raise fail(body)
    for channel in ("sms", "call"):
        item = body.get(channel)
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, list):
                code = code[-1] if code else None
            if code not in (None, ""):
                text = item.get("text")
                return StatusResult(SmsStatus.OK, str(code), str(text) if text else None)
    return StatusResult(SmsStatus.WAIT_CODE)


def _opt_str(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return None if value is None else str(value)


def _codes(value: object) -> tuple[str, ...]:
    if value in (None, "", [], "null"):
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value if v not in (None, ""))
    return (str(value),)


def parse_active(body: Body) -> list[ActiveActivation]:
    """getActiveActivations in every known shape: bare list, wrapped list, dict by id."""
    if isinstance(body, str):
        if body.strip().upper() in {"NO_ACTIVATIONS", "NO_ACTIVATION"}:
            return []
        raise error_from_text(body)
    rows: Iterable[Any]
    if isinstance(body, list):
        rows = body
    else:
        inner = body.get("activeActivations", body.get("activations", body.get("data")))
        if inner is None and str(body.get("status", "")).lower() == "success":
            inner = []
        if isinstance(inner, dict):
            inner = list(inner.values())
        if not isinstance(inner, list):
            raise fail(body)
        rows = inner
    result = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        activation_id = to_int(row.get("activationId", row.get("id")))
        if activation_id is None:
            continue
        text = row.get("smsText")
        if isinstance(text, list):
            text = text[-1] if text else None
        result.append(
            ActiveActivation(
                activation_id=activation_id,
                phone=_opt_str(row, "phoneNumber"),
                status=_opt_str(row, "activationStatus"),
                service=_opt_str(row, "serviceCode"),
                country_code=_opt_str(row, "countryCode"),
                codes=_codes(row.get("smsCode")),
                text=str(text) if text else None,
                cost=to_float(row.get("activationCost")),
                currency=to_int(row.get("currency")),
                can_get_another_sms=to_bool(row.get("canGetAnotherSms")),
            )
        )
    return result
