"""In-process emulator of a KoalaSMS account (sms-activate compatible ``handler_api.php``).

It follows the KoalaSMS API as the provider really answers, including its contradictions
(int vs string ids, zone-less provider dates, ``countryCode`` being a dialling code),
so that the real client is tested against what the provider really answers. Everything
is deterministic: the clock only moves with :meth:`ProviderSandbox.advance`, phone
numbers come from a seeded RNG, activation ids increase from 700000001.

State changes are synchronous and happen on one event loop, so no locking is needed.
Lifetime expiry is evaluated lazily (on every request and inspection) instead of by a
background task, so time travel with :meth:`advance` takes effect immediately.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = [
    "FAULT_KINDS",
    "PROHIBITED_ANSWER",
    "ProviderSandbox",
    "SandboxActivation",
    "SandboxCall",
    "SandboxSms",
]

ENDPOINT_PATH = "/stubs/handler_api.php"
PROHIBITED_ANSWER = "The service is prohibited for sale by administration"
# The service code that answers PROHIBITED_ANSWER, so tests can reach that error.
PROHIBITED_SERVICE = "prohibited"
CURRENCY_RUB = 643
FIRST_ACTIVATION_ID = 700000001
FAULT_KINDS = frozenset({"http500", "html", "timeout", "garbage", "empty", "drop", "lost_answer"})
STYLE_FLAGS = frozenset({"wrapped_active", "list_sms_code", "json_errors", "html_content_type"})
# Not in KoalaSMS's document; some compatible providers have it. Off unless enabled.
HISTORY_ACTION = "getHistory"
ACTIONS = frozenset({
    "getBalance", "getNumber", "getNumberV2", "setStatus", "getStatus", "getStatusV2",
    "getPrices", "getPricesV2", "getPricesV3", "getActiveActivations",
})

# Activation states (SandboxActivation.status).
WAIT_CODE = "wait_code"
GOT_CODE = "got_code"
WAIT_RETRY = "wait_retry"
COMPLETED = "completed"
CANCELLED = "cancelled"
FINAL_STATES = frozenset({COMPLETED, CANCELLED})

# country id -> (dialling code, national number length, national leading digits).
# Approximate on purpose: the numbers only need to look plausible.
_DIALLING: dict[int, tuple[str, int, str]] = {
    0: ("7", 10, "9"), 1: ("380", 9, "6"), 2: ("7", 10, "7"), 3: ("86", 11, "1"),
    4: ("63", 10, "9"), 6: ("62", 11, "8"), 7: ("60", 9, "1"), 10: ("84", 9, "9"),
    12: ("1", 10, "2"), 15: ("48", 9, "5"), 16: ("44", 10, "7"), 22: ("91", 10, "9"),
    32: ("40", 9, "7"), 36: ("1", 10, "4"), 43: ("49", 11, "1"), 48: ("31", 9, "6"),
    52: ("66", 9, "8"), 56: ("34", 9, "6"), 62: ("90", 10, "5"), 73: ("55", 11, "1"),
    78: ("33", 9, "6"), 86: ("39", 10, "3"), 117: ("351", 9, "9"), 175: ("61", 9, "4"),
    187: ("1", 10, "3"),
}
_FALLBACK_DIALLING = ("999", 9, "1")


def _load_country_names() -> dict[int, str]:
    # The bot's code table gives getActiveActivations a realistic countryName; the
    # sandbox still works without it.
    path = Path(__file__).resolve().parent.parent / "data" / "countries.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {int(k): str(v) for k, v in raw.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _num(value: float) -> str:
    """Price as the provider prints it in text and JSON keys: ``12.5``, ``10``."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _money(value: float) -> float:
    return round(value, 4)


def _int_list(raw: str | None) -> set[int]:
    out: set[int] = set()
    for part in (raw or "").split(","):
        part = part.strip()
        if part.lstrip("-").isdigit():
            out.add(int(part))
    return out


@dataclass
class _Tier:
    price: float
    count: int


@dataclass
class _Offer:
    # provider id -> price tiers; a purchase takes the cheapest tier in stock.
    providers: dict[int, list[_Tier]]
    another_sms: bool = True

    def tiers(self, only: set[int], exclude: set[int]) -> list[tuple[float, int, _Tier]]:
        """In-stock (price, provider id, tier) allowed by the provider filters."""
        return [
            (t.price, pid, t)
            for pid, tiers in self.providers.items()
            if (not only or pid in only) and pid not in exclude
            for t in tiers
            if t.count > 0
        ]

    @property
    def count(self) -> int:
        return sum(t.count for tiers in self.providers.values() for t in tiers)

    @property
    def price(self) -> float:
        prices = [p for p, _, _ in self.tiers(set(), set())]
        if not prices:  # out of stock: still show what it would cost
            prices = [t.price for tiers in self.providers.values() for t in tiers]
        return min(prices)


@dataclass
class SandboxSms:
    code: str
    text: str
    at: float  # sandbox clock


@dataclass
class SandboxActivation:
    id: int
    api_key: str
    service: str
    country: int
    provider_id: int
    phone: str
    cost: float
    created: float  # sandbox clock
    cancel_at: float
    end_at: float
    another_sms: bool = True
    status: str = WAIT_CODE
    sms: list[SandboxSms] = field(default_factory=list)
    last_set_status: int = 0  # shown as activationStatus in getActiveActivations
    resend: bool = False  # getStatus answers STATUS_WAIT_RESEND until the next SMS
    refunded: bool = False
    expired: bool = False  # ended by its lifetime, not by setStatus
    forgotten: bool = False  # setStatus / getStatus answer NO_ACTIVATION for it

    @property
    def codes(self) -> list[str]:
        return [s.code for s in self.sms]

    @property
    def code(self) -> str | None:
        return self.sms[-1].code if self.sms else None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "api_key": self.api_key, "service": self.service,
            "country": self.country, "provider_id": self.provider_id, "phone": self.phone,
            "cost": self.cost, "created": self.created, "cancel_at": self.cancel_at,
            "end_at": self.end_at, "status": self.status, "codes": self.codes,
            "resend": self.resend, "refunded": self.refunded, "expired": self.expired,
            "last_set_status": self.last_set_status,
        }


@dataclass
class SandboxCall:
    """One request on the endpoint as a person watching sees it (never the whole key)."""

    action: str
    key_hint: str
    at: float  # sandbox clock
    outcome: str = ""


def mask_key(key: str) -> str:
    """``demo…6789``: enough to tell keys apart, useless to anyone reading over a shoulder."""
    if not key:
        return "(none)"
    if len(key) <= 8:
        return "…" + key[-2:]
    return f"{key[:4]}…{key[-4:]}"


def _outcome(response: web.StreamResponse) -> str:
    """``ok``, the provider's error word (``NO_NUMBERS``), or ``HTTP 500``/``not the API``."""
    if response.status != 200:
        return f"HTTP {response.status}"
    body = response.text if isinstance(response, web.Response) else None
    if body is None:
        return "ok"
    head = body.strip()[:60]
    if head.startswith(("{", "[")):
        try:
            data = json.loads(body)
        except ValueError:
            return "not the API"
        if isinstance(data, dict) and data.get("status") == "error":
            return str(data.get("message", "error"))
        return "ok"
    if not head or head.startswith(("<", "@")):
        return "not the API"
    word = head.split(":", 1)[0]
    if word.isupper() and word.replace("_", "").isalnum() and word.startswith(
            ("ACCESS", "STATUS")):
        return "ok"
    if word.replace("_", "").isalnum() and word.isupper():
        return word
    return head if len(head) < 40 else head[:39] + "…"


@dataclass
class _FaultRule:
    kind: str
    every: int
    count: int | None
    actions: frozenset[str] | None
    seen: int = 0
    fired: int = 0

    def fires(self, action: str) -> bool:
        if self.actions is not None and action not in self.actions:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        self.seen += 1
        if self.seen % self.every:
            return False
        self.fired += 1
        return True


@dataclass
class _Answer:
    body: str | dict[str, object] | list[object]
    error: bool = False
    extra: dict[str, object] = field(default_factory=dict)  # additions to a JSON error


def _err(text: str, **extra: object) -> _Answer:
    return _Answer(text, error=True, extra=dict(extra))


class ProviderSandbox:
    """A fake KoalaSMS account store speaking ``handler_api.php`` over real HTTP."""

    def __init__(
        self,
        *,
        cancel_delay: float = 120.0,
        lifetime: float = 1200.0,
        provider_utc_offset_hours: float = 3.0,
        seed: int = 0,
    ) -> None:
        self.cancel_delay = cancel_delay
        self.lifetime = lifetime
        self.provider_tz = timezone(timedelta(hours=provider_utc_offset_hours))
        # How long a "timeout" fault holds the request: longer than any client timeout.
        self.fault_timeout = 30.0
        self._rng = random.Random(seed)
        self._clock_offset = 0.0
        self._accounts: dict[str, float] = {}
        self._offers: dict[tuple[str, int], _Offer] = {}
        self._activations: dict[int, SandboxActivation] = {}
        self._next_id = FIRST_ACTIVATION_ID
        self._phones: set[str] = set()
        self._faults: list[_FaultRule] = []
        self._disabled: set[str] = set()
        self._style = dict.fromkeys(STYLE_FLAGS, False)
        self._error_rules: list[tuple[_FaultRule, str]] = []  # see inject_error
        self.history_enabled = False  # see enable_history
        self._requests: list[tuple[str, dict[str, str]]] = []
        # (when, action, api_key) per request: calls per key over a window (tests of several
        # bot instances count getActiveActivations per account).
        self.key_log: list[tuple[float, str, str]] = []
        self._fault_log: list[tuple[str, str]] = []
        self._canned: dict[str, str] = {}  # action -> raw body answered instead
        self._held: set[str] = set()  # actions whose requests wait for release()
        self._held_keys: set[str] = set()  # API keys whose requests wait (see hold_key)
        self._release = asyncio.Event()
        self.holding = 0  # requests being held right now
        self._country_names = _load_country_names()
        self._cancel_refusals: dict[int, str] = {}  # activation id -> answer to setStatus 8
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.base_url: str | None = None
        self._slow: list[tuple[_FaultRule, float, bool]] = []  # see delay_answers
        # Every request served, for people watching (the playground's side panel).
        self.call_log: list[SandboxCall] = []
        self.call_listeners: list[Callable[[SandboxCall], None]] = []

    # ------------------------------------------------------------------ state

    def add_account(self, api_key: str, balance: float = 100.0) -> None:
        """Create the account, or set its balance if it exists."""
        self._accounts[api_key] = _money(balance)

    def balance(self, api_key: str) -> float:
        self._expire()  # an expiry refund changes the balance
        return self._accounts[api_key]

    def set_offer(
        self,
        service: str,
        country: int,
        price: float,
        count: int,
        providers: dict[int, tuple[list[float], int]] | None = None,
        *,
        another_sms: bool = True,
    ) -> None:
        """Replace the stock of ``service`` in ``country``.

        With ``providers`` the stock is theirs and ``price``/``count`` are ignored (the
        offer's price and count are derived: cheapest price, total count). A provider's
        count is split over its prices, cheapest first, as price tiers.
        """
        if providers is None:
            providers = {1: ([price], count)}
        tiers: dict[int, list[_Tier]] = {}
        for pid, (prices, total) in providers.items():
            ordered = sorted(prices) or [price]
            share, rest = divmod(max(total, 0), len(ordered))
            tiers[pid] = [
                _Tier(_money(p), share + (1 if i < rest else 0)) for i, p in enumerate(ordered)
            ]
        self._offers[(service, country)] = _Offer(tiers, another_sms)

    def load_demo_catalogue(self) -> None:
        """A realistic, deterministic catalogue (prices in RUB) for ``--sandbox``."""
        base = {"tg": 25.0, "wa": 30.0, "go": 12.0, "ig": 8.0, "fb": 6.0, "vk": 15.0,
                "ds": 5.0, "tw": 7.0, "am": 9.0, "ot": 4.0}
        factor = {0: 1.0, 1: 0.8, 2: 0.7, 6: 0.45, 12: 0.6, 16: 1.6, 22: 0.5, 43: 2.2,
                  62: 0.9, 73: 0.75, 78: 1.9, 187: 2.5}
        vk_countries = {0, 1, 2, 16, 43, 187}  # gaps, like a real catalogue
        sold_out = {("vk", 16), ("ds", 22), ("am", 62), ("tw", 0), ("wa", 12)}
        for service, price in base.items():
            for country, f in factor.items():
                if service == "vk" and country not in vk_countries:
                    continue
                # A string seed is hashed with sha512: stable across runs and platforms.
                rng = random.Random(f"{service}:{country}")
                count = 0 if (service, country) in sold_out else rng.randint(8, 2500)
                self.set_offer(service, country, round(price * f, 2), count,
                               another_sms=service != "wa")
        # A few offers with several providers at different prices.
        self.set_offer("tg", 0, 25.0, 0, {1: ([25.0, 27.5], 140), 2: ([22.0], 35),
                                          3: ([31.0], 600)})
        self.set_offer("tg", 6, 11.25, 0, {1: ([11.25], 900), 4: ([9.9, 10.5], 12)})
        self.set_offer("wa", 22, 15.0, 0, {2: ([15.0], 420), 5: ([13.5], 0),
                                           6: ([18.0, 19.0, 21.0], 75)})
        self.set_offer("go", 187, 30.0, 0, {1: ([30.0], 60), 3: ([26.0], 4)})

    # ---------------------------------------------------------------- control

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        self._clock_offset += seconds
        self._expire()

    def deliver_sms(self, activation_id: int, code: str, text: str | None = None) -> None:
        """An SMS arrives. Unknown id: KeyError. A finished activation drops it, as a
        provider does with a late SMS."""
        self._expire()
        act = self._activations[activation_id]
        if act.final:
            return
        act.sms.append(SandboxSms(code, text if text is not None
                                  else f"Your verification code is {code}", self.now()))
        act.status = GOT_CODE
        act.resend = False

    def cancel_by_provider(self, activation_id: int) -> None:
        """The provider ends an activation on its own (e.g. the number went offline)."""
        act = self._activations[activation_id]
        if not act.final:
            self._cancel(act)

    def set_resend(self, activation_id: int, on: bool = True) -> None:
        """Make getStatus answer STATUS_WAIT_RESEND until the next SMS."""
        self._activations[activation_id].resend = on

    def refuse_cancel(self, activation_id: int, answer: str = "ERROR_SQL") -> None:
        """Answer every cancel of this activation with ``answer`` and keep it open past
        its end, as a provider that keeps refusing does; ``allow_cancel`` undoes it."""
        self._cancel_refusals[activation_id] = answer

    def allow_cancel(self, activation_id: int) -> None:
        self._cancel_refusals.pop(activation_id, None)

    def inject_faults(
        self,
        kind: str,
        *,
        every: int = 1,
        count: int | None = None,
        actions: set[str] | None = None,
    ) -> None:
        """Add a fault rule. The first rule that fires answers the request; a fault
        rejects the request before it is processed, except ``lost_answer``, which
        executes it and then replaces the answer with a 502."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if every < 1:
            raise ValueError("every must be >= 1")
        self._faults.append(_FaultRule(kind, every, count,
                                       frozenset(actions) if actions is not None else None))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._slow.clear()

    def delay_answers(self, seconds: float, *, actions: set[str], count: int | None = 1,
                      execute_first: bool = False) -> None:
        """Hold the next `count` matching requests `seconds` before answering. The request
        is executed after the hold (a provider slower than the client's time-out that
        still charges), or before it with `execute_first` (executed at once, answered
        late). A client that gave up, or a bot killed meanwhile, never reads the answer."""
        self._slow.append((_FaultRule("slow", 1, count, frozenset(actions)), seconds,
                           execute_first))

    def buy_in_panel(self, api_key: str, service: str, country: int) -> SandboxActivation:
        """A purchase made on the same key outside the bot (the provider's web panel)."""
        answer = self._get_number(api_key, {"service": service, "country": str(country)},
                                  v2=True)
        if answer.error:
            raise ValueError(f"panel purchase refused: {answer.body}")
        assert isinstance(answer.body, dict)
        return self._activations[int(str(answer.body["activationId"]))]

    async def _slow_answer(self, action: str, params: dict[str, str]) -> web.Response | None:
        """Serve a request caught by delay_answers; None when no hold applies."""
        hold = next(((seconds, first) for rule, seconds, first in self._slow
                     if rule.fires(action)), None)
        if hold is None:
            return None
        seconds, execute_first = hold
        answer = self._dispatch(action, params) if execute_first else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if answer is None:
            self._expire()
            answer = self._dispatch(action, params)
        return self._render(answer)

    def answer_with(self, action: str, body: str | None) -> None:
        """Answer every request for `action` with this raw body (None: normal answers
        again), e.g. an error text of the provider's own wording."""
        if body is None:
            self._canned.pop(action, None)
        else:
            self._canned[action] = body

    def hold(self, *actions: str) -> None:
        """Requests for these actions hang (no answer) until release(): a provider that
        hangs, for as long as a test needs, not a fixed time."""
        self._held.update(actions)
        self._release = asyncio.Event()

    def release(self) -> None:
        """Let held requests go on (they are then answered normally)."""
        self._held.clear()
        self._held_keys.clear()
        self._release.set()

    def hold_key(self, api_key: str) -> None:
        """Every request made with this key hangs until release(): one account's key
        that hangs while the others are answered."""
        self._held_keys.add(api_key)
        self._release = asyncio.Event()

    def disable_action(self, action: str) -> None:
        self._disabled.add(action)

    def enable_action(self, action: str) -> None:
        self._disabled.discard(action)

    def set_style(self, **flags: bool) -> None:
        unknown = set(flags) - STYLE_FLAGS
        if unknown:
            raise ValueError(f"unknown style flags: {sorted(unknown)}")
        self._style.update(flags)

    def activation(self, activation_id: int) -> SandboxActivation:
        self._expire()
        return self._activations[activation_id]

    @property
    def activations(self) -> list[SandboxActivation]:
        self._expire()
        return list(self._activations.values())

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        """Every request received on the endpoint, faulty ones included."""
        return self._requests

    @property
    def fault_log(self) -> list[tuple[str, str]]:
        """(action, fault kind) for every fault served."""
        return self._fault_log

    def calls(self, action: str) -> int:
        return sum(1 for a, _ in self._requests if a == action)

    def calls_by_key(self, action: str, since: float = 0.0,
                     until: float | None = None) -> dict[str, int]:
        """How often each API key asked for `action` between two time.monotonic() times."""
        counts: dict[str, int] = {}
        for at, a, key in self.key_log:
            if a == action and at >= since and (until is None or at < until):
                counts[key] = counts.get(key, 0) + 1
        return counts

    def state(self) -> dict[str, object]:
        self._expire()
        return {
            "now": self.now(),
            "accounts": dict(self._accounts),
            "activations": [a.to_json() for a in self._activations.values()],
        }

    # -------------------------------------------------------------- internals

    def _expire(self) -> None:
        now = self.now()
        for act in self._activations.values():
            if act.final or now < act.end_at or act.id in self._cancel_refusals:
                continue
            act.expired = True
            if act.sms:
                act.status = COMPLETED
            else:
                self._cancel(act)

    def _cancel(self, act: SandboxActivation) -> None:
        act.status = CANCELLED
        act.resend = False
        if not act.refunded and act.api_key in self._accounts:
            self._accounts[act.api_key] = _money(self._accounts[act.api_key] + act.cost)
            act.refunded = True

    def _provider_time(self, ts: float) -> str:
        # The provider's wall clock with no zone marker (contradiction 5).
        return datetime.fromtimestamp(ts, tz=self.provider_tz).strftime("%Y-%m-%d %H:%M:%S")

    def _new_phone(self, country: int) -> str:
        dial, length, lead = _DIALLING.get(country, _FALLBACK_DIALLING)
        while True:
            rest = "".join(str(self._rng.randrange(10)) for _ in range(length - len(lead)))
            phone = dial + lead + rest
            if phone not in self._phones:
                self._phones.add(phone)
                return phone

    def _services(self) -> set[str]:
        return {s for s, _ in self._offers}

    # ---------------------------------------------------------------- actions

    def _dispatch(self, action: str, p: dict[str, str]) -> _Answer:
        key = p.get("api_key", "")
        if not key:
            return _err("NO_KEY")
        if key not in self._accounts:
            # The doc gives NO_KEY (not BAD_KEY) for this action.
            return _err("NO_KEY" if action == "getActiveActivations" else "BAD_KEY")
        if action == HISTORY_ACTION and self.history_enabled:
            return self._history(key)
        if action not in ACTIONS or action in self._disabled:
            return _err("BAD_ACTION")
        if action == "getBalance":
            return _Answer(f"ACCESS_BALANCE:{self._accounts[key]:.2f}")
        if action in ("getNumber", "getNumberV2"):
            return self._get_number(key, p, v2=action == "getNumberV2")
        if action == "setStatus":
            return self._set_status(key, p)
        if action in ("getStatus", "getStatusV2"):
            return self._get_status(key, p, v2=action == "getStatusV2")
        if action == "getActiveActivations":
            return self._active(key)
        return self._prices(action, p)

    def _get_number(self, key: str, p: dict[str, str], *, v2: bool) -> _Answer:
        service = p.get("service", "")
        if service == PROHIBITED_SERVICE:
            return _err(PROHIBITED_ANSWER)
        if service not in self._services():
            return _err("BAD_SERVICE")
        only, exclude = _int_list(p.get("providerIds")), _int_list(p.get("exceptProviderIds"))
        raw_country = p.get("country", "").strip()
        if raw_country in ("", "any"):
            countries = sorted(c for s, c in self._offers if s == service)
        elif raw_country.lstrip("-").isdigit():
            countries = [int(raw_country)]
        else:
            return _err("NO_NUMBERS")
        # Cheapest in-stock tier; ties go to the lower country id, then provider id.
        candidates = [
            (price, country, pid, tier)
            for country in countries
            if (offer := self._offers.get((service, country))) is not None
            for price, pid, tier in offer.tiers(only, exclude)
        ]
        if not candidates:
            return _err("NO_NUMBERS")
        price, country, pid, tier = min(candidates, key=lambda c: (c[0], c[1], c[2]))
        try:
            max_price = float(p["maxPrice"]) if p.get("maxPrice", "").strip() else None
        except ValueError:
            max_price = None  # an unreadable limit is no limit
        if max_price is not None and price > max_price:
            return _err(f"WRONG_MAX_PRICE:{_num(price)}", info={"min": price})
        if self._accounts[key] < price:
            return _err("NO_BALANCE")
        self._accounts[key] = _money(self._accounts[key] - price)
        tier.count -= 1
        now = self.now()
        act = SandboxActivation(
            id=self._next_id, api_key=key, service=service, country=country,
            provider_id=pid, phone=self._new_phone(country), cost=price, created=now,
            cancel_at=now + self.cancel_delay, end_at=now + self.lifetime,
            another_sms=self._offers[(service, country)].another_sms,
        )
        self._next_id += 1
        self._activations[act.id] = act
        if not v2:
            return _Answer(f"ACCESS_NUMBER:{act.id}:{act.phone}")
        return _Answer({
            "activationCancel": self._provider_time(act.cancel_at),
            "activationCost": act.cost,
            "activationEnd": self._provider_time(act.end_at),
            "activationId": act.id,
            "activationTime": self._provider_time(act.created),
            "canGetAnotherSms": "1" if act.another_sms else "0",
            # A dialling code, not the country id that was bought (contradiction 3).
            "countryCode": _DIALLING.get(country, _FALLBACK_DIALLING)[0],
            "currency": CURRENCY_RUB,
            "phoneNumber": act.phone,
        })

    def _find(self, key: str, p: dict[str, str]) -> SandboxActivation | None:
        raw = p.get("id", "").strip()
        act = self._activations.get(int(raw)) if raw.isdigit() else None
        if act is not None and act.forgotten:
            return None
        return act if act is not None and act.api_key == key else None

    def _set_status(self, key: str, p: dict[str, str]) -> _Answer:
        act = self._find(key, p)
        if act is None or act.final:  # sms-activate: a finished one no longer exists
            return _err("NO_ACTIVATION")
        raw = p.get("status", "").strip()
        status = int(raw) if raw.lstrip("-").isdigit() else None
        if status in (8, -1):
            if act.id in self._cancel_refusals:
                return _err(self._cancel_refusals[act.id])
            if act.sms:  # a number that got its code is paid for
                return _err("BAD_STATUS")
            if self.now() < act.cancel_at:
                return _err("EARLY_CANCEL_DENIED")
            self._cancel(act)
            act.last_set_status = 8
            return _Answer("ACCESS_CANCEL")
        if status == 1:
            act.last_set_status = 1
            return _Answer("ACCESS_READY")
        if status == 3:
            if not act.sms or not act.another_sms:
                return _err("BAD_STATUS")
            act.status = WAIT_RETRY
            act.last_set_status = 3
            return _Answer("ACCESS_RETRY_GET")
        if status == 6:
            if not act.sms:
                return _err("BAD_STATUS")
            act.status = COMPLETED
            act.resend = False
            act.last_set_status = 6
            return _Answer("ACCESS_ACTIVATION")
        return _err("BAD_STATUS")

    def _get_status(self, key: str, p: dict[str, str], *, v2: bool) -> _Answer:
        act = self._find(key, p)
        if act is None:
            return _err("NO_ACTIVATION")
        if act.status == CANCELLED:
            return _Answer("STATUS_CANCEL")  # compatible providers answer V2 in text too
        if v2:
            last = act.sms[-1] if act.sms else None
            sms = ({"dateTime": self._provider_time(last.at), "code": last.code,
                    "text": last.text} if last else None)
            return _Answer({"verificationType": 2, "sms": sms, "call": None})
        if act.resend and not act.final:
            return _Answer("STATUS_WAIT_RESEND")
        if act.status == WAIT_RETRY:
            return _Answer(f"STATUS_WAIT_RETRY:{act.code}")
        if act.sms:
            return _Answer(f"STATUS_OK:{act.code}")
        return _Answer("STATUS_WAIT_CODE")

    def _active(self, key: str) -> _Answer:
        listed: list[object] = []
        for act in self._activations.values():
            if act.api_key != key or act.final:
                continue
            if self._style["list_sms_code"]:
                code: object = act.codes or None
                text: object = [s.text for s in act.sms] or None
            else:
                code = act.code
                text = act.sms[-1].text if act.sms else None
            listed.append({
                "activationCost": act.cost,
                "activationId": str(act.id),  # a string here, an int in getNumberV2
                "activationStatus": act.last_set_status,
                "activationTime": self._provider_time(act.created),
                "canGetAnotherSms": "1" if act.another_sms else "0",
                "countryCode": _DIALLING.get(act.country, _FALLBACK_DIALLING)[0],
                "countryName": self._country_names.get(act.country, str(act.country)),
                "currency": CURRENCY_RUB,
                "discount": "0.00",
                "phoneNumber": act.phone,
                "repeated": "0",
                "serviceCode": act.service,
                "smsCode": code,
                "smsText": text,
            })
        if not listed:
            return _err("NO_ACTIVATIONS")
        if self._style["wrapped_active"]:
            return _Answer({"status": "success", "activeActivations": listed})
        return _Answer(listed)

    def _prices(self, action: str, p: dict[str, str]) -> _Answer:
        service = p.get("service", "").strip()
        if service and service not in self._services():
            return _err("BAD_SERVICE")
        raw_country = p.get("country", "").strip()
        country: int | None = None
        if raw_country not in ("", "any"):
            if not raw_country.lstrip("-").isdigit():
                return _Answer({})
            country = int(raw_country)
        out: dict[str, object] = {}
        for (s, c), offer in sorted(self._offers.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            if (service and s != service) or (country is not None and c != country):
                continue
            entry: object
            if action == "getPrices":
                entry = {"cost": offer.price, "count": offer.count}
            elif action == "getPricesV2":
                by_price: dict[str, int] = {}
                for price, _, tier in sorted(offer.tiers(set(), set()), key=lambda t: t[0]):
                    by_price[_num(price)] = by_price.get(_num(price), 0) + tier.count
                entry = by_price or {_num(offer.price): 0}
            else:
                providers: dict[str, object] = {}
                for pid, tiers in sorted(offer.providers.items()):
                    stocked = [t.price for t in tiers if t.count > 0]
                    providers[str(pid)] = {
                        "count": sum(t.count for t in tiers),
                        "price": sorted(stocked or [t.price for t in tiers]),
                        "provider_id": pid,
                    }
                entry = {"price": offer.price, "count": offer.count, "providers": providers}
            services = out.setdefault(str(c), {})
            assert isinstance(services, dict)
            services[s] = entry
        return _Answer(out)

    # ------------------------------------------------------------------- HTTP

    def _render(self, answer: _Answer) -> web.Response:
        body = answer.body
        if answer.error and self._style["json_errors"]:
            assert isinstance(body, str)
            body = {"status": "error", "message": body, **answer.extra}
        if isinstance(body, str):
            text, ctype = body, "text/plain"
        else:
            text, ctype = json.dumps(body, ensure_ascii=False), "application/json"
        if self._style["html_content_type"]:
            ctype = "text/html"
        return web.Response(text=text, content_type=ctype)

    async def _fault(self, request: web.Request, kind: str, n: int) -> web.StreamResponse:
        if kind == "http500":
            return web.Response(status=502 if n % 2 else 500, text="Bad Gateway")
        if kind == "html":
            return web.Response(
                text="<html><head><title>Just a moment...</title></head><body>"
                     "Cloudflare: checking your browser</body></html>",
                content_type="text/html")
        if kind == "garbage":
            return web.Response(text="@@#!garbage", content_type="text/html")
        if kind == "empty":
            return web.Response(text="", content_type="text/html")
        if kind == "drop":
            # Close the socket without a status line: the client sees a disconnect.
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        # "timeout": hold the request; stop() releases it so shutdown is not delayed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.fault_timeout)
        return web.Response(status=504, text="Gateway Timeout")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request and record it in the call log (action, masked key, outcome)."""
        call = SandboxCall(action="", key_hint="", at=self.now())
        try:
            response = await self._serve(request, call)
        except BaseException:
            call.outcome = "connection dropped"
            raise
        else:
            call.outcome = _outcome(response)
            return response
        finally:
            self.call_log.append(call)
            for listener in list(self.call_listeners):
                listener(call)

    async def _serve(self, request: web.Request, call: SandboxCall) -> web.StreamResponse:
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        action = params.get("action", "")
        call.action, call.key_hint = action, mask_key(params.get("api_key", ""))
        self._requests.append(
            (action, {k: v for k, v in params.items() if k not in ("api_key", "action")}))
        self.key_log.append((time.monotonic(), action, params.get("api_key", "")))
        error = next((text for r, text in self._error_rules if r.fires(action)), None)
        if error is not None:
            return self._render(_err(error))
        slow = await self._slow_answer(action, params)
        if slow is not None:
            return slow
        if action in self._held or params.get("api_key") in self._held_keys:
            self.holding += 1
            try:
                await asyncio.wait_for(self._release.wait(), self.fault_timeout)
            except TimeoutError:
                return web.Response(status=504, text="Gateway Timeout")
            finally:
                self.holding -= 1
        if action in self._canned:
            return web.Response(text=self._canned[action], content_type="text/html")
        rule = next((r for r in self._faults if r.fires(action)), None)
        if rule is not None:
            self._fault_log.append((action, rule.kind))
            if rule.kind != "lost_answer":
                return await self._fault(request, rule.kind, rule.fired)
        self._expire()
        answer = self._dispatch(action, params)
        if rule is not None:  # lost_answer: executed, but the client never learns it
            return web.Response(status=502, text="Bad Gateway")
        return self._render(answer)

    # ------------------------------------------------------------ control API

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json() if request.can_read_body else {}
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text="body must be a JSON object")
        return data

    async def _control(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.method == "GET":
            if name != "state":
                raise web.HTTPNotFound()
            return web.json_response(self.state())
        data = await self._json(request)
        try:
            if name == "sms":
                self.deliver_sms(int(data["id"]), str(data["code"]),
                                 None if data.get("text") is None else str(data["text"]))
            elif name == "resend":
                self.set_resend(int(data["id"]), bool(data.get("on", True)))
            elif name == "advance":
                self.advance(float(data["seconds"]))
            elif name == "faults":
                actions = data.get("actions")
                self.inject_faults(
                    str(data["kind"]), every=int(data.get("every", 1)),
                    count=None if data.get("count") is None else int(data["count"]),
                    actions=None if actions is None else {str(a) for a in actions})
            elif name == "clear_faults":
                self.clear_faults()
            elif name == "account":
                self.add_account(str(data["api_key"]), float(data.get("balance", 100.0)))
            elif name == "style":
                self.set_style(**{str(k): bool(v) for k, v in data.items()})
            elif name == "disable":
                self.disable_action(str(data["action"]))
            else:
                raise web.HTTPNotFound()
        except KeyError as exc:
            raise web.HTTPNotFound(text=f"unknown or missing: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response({"ok": True, "now": self.now()})

    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(ENDPOINT_PATH, self._handle)
        app.router.add_post(ENDPOINT_PATH, self._handle)
        app.router.add_get("/control/{name}", self._control)
        app.router.add_post("/control/{name}", self._control)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0 = a free port); returns the endpoint URL."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._stopping = asyncio.Event()
        # No access log: the query string carries api_key. A short shutdown timeout
        # because a held ("timeout" fault) request must not delay stop().
        runner = web.AppRunner(self.make_app(), shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        if ":" in bound_host:
            bound_host = f"[{bound_host}]"
        self.base_url = f"http://{bound_host}:{bound_port}"
        return self.base_url + ENDPOINT_PATH

    async def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # ------------------------------------------- provider-side endings, wrong answers

    def complete_by_provider(self, activation_id: int, code: str | None = None) -> None:
        """The provider completes an activation on its side (an SMS, if given, arrives
        first) and forgets it: setStatus and getStatus answer NO_ACTIVATION, the active
        list no longer shows it; only getHistory (see enable_history) still knows it."""
        act = self._activations[activation_id]
        if code is not None:
            self.deliver_sms(activation_id, code)
        act.status = COMPLETED
        act.resend = False
        act.forgotten = True

    def enable_history(self, on: bool = True) -> None:
        """Answer getHistory: every activation of the key, newest first, with its codes."""
        self.history_enabled = on

    def _history(self, key: str) -> _Answer:
        self._expire()
        rows: list[object] = []
        for act in sorted(self._activations.values(), key=lambda a: -a.id):
            if act.api_key != key:
                continue
            rows.append({
                "id": act.id,
                "date": self._provider_time(act.created),
                "phone": act.phone,
                "smsCode": act.codes or None,
                "smsText": [s.text for s in act.sms] or None,
                "cost": act.cost,
                "status": act.status,
                "currency": CURRENCY_RUB,
            })
        return _Answer(rows)

    def inject_error(self, text: str, *, count: int | None = None,
                     actions: set[str] | None = None) -> None:
        """Answer ``text`` (e.g. ``NO_KEY``) instead of processing the request, ``count``
        times (None: until clear_errors) for ``actions`` (None: every action)."""
        self._error_rules.append((_FaultRule("error", 1, count, frozenset(actions)
                                             if actions is not None else None), text))

    def clear_errors(self) -> None:
        self._error_rules.clear()
