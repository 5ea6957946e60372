"""The provider's HTTP client: one aiohttp session, time-outs, retries for reads only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import aiohttp

from bot.koala import parse, parse_tables
from bot.koala.errors import BadAction, Banned, KoalaError, TransientError
from bot.koala.models import (
    ActiveActivation,
    CountryOffer,
    HistoryEntry,
    Purchase,
    StatusResult,
)
from bot.money import amount_text
from bot.redact import redact

log = logging.getLogger(__name__)
T = TypeVar("T")

# setStatus codes of the API.
STATUS_READY = 1
STATUS_RETRY = 3
STATUS_COMPLETE = 6
STATUS_CANCEL = 8

# A person waits on reads made for a screen (or a button's spinner): all tries of one read
# together get this long, then the screen says the provider is not answering and offers
# to try again. Background reads (the poller) keep the client's full retries.
SCREEN_BUDGET = 9.0
CONNECTIONS = 512  # per session; see _new_session
_read_budget: ContextVar[float | None] = ContextVar("koala_read_budget", default=None)


@contextmanager
def read_budget(seconds: float | None) -> Iterator[None]:
    """Reads made inside (in this task and the tasks it starts) get `seconds` in all,
    retries included; None: no limit beyond the client's own time-out and retries."""
    token = _read_budget.set(seconds)
    try:
        yield
    finally:
        _read_budget.reset(token)


def _unobserved(action: str, outcome: str) -> None:
    """No metrics (a client made outside build_app)."""


class KoalaClient:
    """Talks to one `handler_api.php` endpoint for any number of API keys.

    Read-only actions are retried with backoff on transient faults. Purchases and status
    changes are sent once: a retried getNumber can buy twice, so the caller reconciles
    with getActiveActivations instead.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 15.0,
        retries: int = 2,
        backoff: float = 0.5,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0))
        self._retries = retries
        self._backoff = backoff
        self._session = session
        self._own_session = session is None
        self._screen_session: aiohttp.ClientSession | None = None
        self._closed = False
        # What this provider turned out not to support (answered BAD_ACTION), learnt once.
        self.has_status_v2 = True
        self.has_prices_v3 = True
        self.has_active_list = True
        self.has_number_v2 = True
        # getHistory is not in KoalaSMS's document; some compatible providers have it.
        self.has_history = True
        self.observe: Callable[[str, str], None] = _unobserved  # metrics: (action, outcome)

    def _new_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            timeout=self._timeout,
            # The poller's request slots bound requests as they start, and a request that
            # hangs gives its slot back (bot/poll_accounts.py): hanging ones may then
            # outnumber the slots, and a small pool here would make healthy requests
            # queue for a connection behind them. This only caps sockets.
            connector=aiohttp.TCPConnector(limit=CONNECTIONS, ttl_dns_cache=300),
            headers={"User-Agent": "koalabot/0.1"},
        )

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            # A request still in flight at shutdown must not open a session nobody closes.
            raise TransientError("the client is closed (the bot is stopping)")
        if _read_budget.get() is not None and self._own_session:
            # Requests made for chats (screens) have connections of their own: however many
            # people wait on a hanging provider, the poller's requests, which bring the
            # codes, never queue behind theirs for a free connection.
            if self._screen_session is None or self._screen_session.closed:
                self._screen_session = self._new_session()
            return self._screen_session
        if self._session is None or self._session.closed:
            self._session = self._new_session()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None and self._own_session and not self._session.closed:
            await self._session.close()
        if self._screen_session is not None and not self._screen_session.closed:
            await self._screen_session.close()

    def __repr__(self) -> str:
        return f"KoalaClient({self.base_url!r})"

    async def _call(self, api_key: str, action: str, params: dict[str, object] | None = None,
                    *, write: bool = False) -> parse.Body:
        """One request. Writes go as POST forms: aiohttp silently re-sends a GET whose
        connection dropped, and a re-sent getNumber buys a second number."""
        query = {"api_key": api_key, "action": action}
        query.update({k: str(v) for k, v in (params or {}).items() if v is not None and v != ""})
        session = await self._get_session()
        request = (session.post(self.base_url, data=query) if write
                   else session.get(self.base_url, params=query))
        try:
            async with request as response:
                raw = await response.read()
                status = response.status
        except TimeoutError:
            raise TransientError(f"{action}: the provider did not answer in time") from None
        except aiohttp.ClientError as exc:
            # aiohttp's texts can carry the full URL, key included.
            detail = redact(f"{type(exc).__name__}: {exc}", api_key)
            raise TransientError(f"{action}: provider unreachable ({detail})") from None
        body = raw.decode("utf-8", errors="replace")
        if status >= 500 or status in {408, 425, 429}:
            raise TransientError(f"{action}: provider answered HTTP {status}")
        try:
            decoded = parse.decode(body)
        except TransientError as exc:
            raise TransientError(f"{action}: {exc.text}") from None
        if status >= 400 and isinstance(decoded, str) and not decoded.isupper():
            raise TransientError(f"{action}: provider answered HTTP {status}")
        return decoded

    async def _once(self, api_key: str, action: str, parser: Callable[[parse.Body], T],
                    params: dict[str, object] | None = None, *, write: bool = False) -> T:
        """One request and its parsing; no error leaves here with the key in its text."""
        try:
            result = parser(await self._call(api_key, action, params, write=write))
        except KoalaError as exc:
            self.observe(action, "failed" if isinstance(exc, TransientError) else "refused")
            _scrub(exc, api_key)
            raise
        self.observe(action, "ok")
        return result

    async def _read(self, api_key: str, action: str, parser: Callable[[parse.Body], T],
                    **params: object) -> T:
        """A read-only call: retried on transient faults, since repeating it is harmless;
        within the read budget when one is set (see read_budget)."""
        budget = _read_budget.get()
        if budget is None:
            return await self._read_retrying(api_key, action, parser, params)
        try:
            async with asyncio.timeout(budget):
                return await self._read_retrying(api_key, action, parser, params)
        except TimeoutError:
            raise TransientError(
                f"{action}: the provider did not answer within {budget:g}s") from None

    async def _read_retrying(self, api_key: str, action: str,
                             parser: Callable[[parse.Body], T],
                             params: dict[str, object]) -> T:
        attempt = 0
        while True:
            try:
                return await self._once(api_key, action, parser, params)
            except TransientError as exc:
                if attempt >= self._retries:
                    raise
                attempt += 1
                delay = self._backoff * (3 ** (attempt - 1))
                log.info("retrying %s in %.1fs: %s", action, delay, exc.text)
                await asyncio.sleep(delay)

    # --- account ---------------------------------------------------------------------

    async def get_balance(self, api_key: str) -> float:
        return await self._read(api_key, "getBalance", parse.parse_balance)

    # --- purchases: never retried -------------------------------------------------------

    @staticmethod
    def _purchase_params(
        service: str,
        country: int | str | None,
        max_price: float | None,
        provider_ids: Iterable[int] | None,
        except_provider_ids: Iterable[int] | None,
    ) -> dict[str, object]:
        return {
            "service": service,
            # None is "any country" everywhere in the bot; the wire spells it "any".
            "country": "any" if country is None else country,
            "maxPrice": None if max_price is None else _price(max_price),
            "providerIds": _ids(provider_ids),
            "exceptProviderIds": _ids(except_provider_ids),
        }

    async def get_number(
        self,
        api_key: str,
        service: str,
        country: int | str | None = None,
        *,
        max_price: float | None = None,
        provider_ids: Iterable[int] | None = None,
        except_provider_ids: Iterable[int] | None = None,
    ) -> Purchase:
        params = self._purchase_params(service, country, max_price, provider_ids,
                                       except_provider_ids)
        return await self._once(api_key, "getNumber", parse.parse_number_v1, params, write=True)

    async def get_number_v2(
        self,
        api_key: str,
        service: str,
        country: int | str | None = None,
        *,
        max_price: float | None = None,
        provider_ids: Iterable[int] | None = None,
        except_provider_ids: Iterable[int] | None = None,
    ) -> Purchase:
        params = self._purchase_params(service, country, max_price, provider_ids,
                                       except_provider_ids)
        return await self._once(api_key, "getNumberV2", parse.parse_number_v2, params,
                                write=True)

    # --- activation life ------------------------------------------------------------------

    async def set_status(self, api_key: str, activation_id: int, status: int) -> str:
        """Returns the ACCESS_* answer; sent once (the caller decides about retrying)."""
        answer = await self._once(api_key, "setStatus", parse.parse_set_status,
                                  {"id": activation_id, "status": status}, write=True)
        return redact(answer, api_key)  # callers may show an unexpected answer

    async def get_status(self, api_key: str, activation_id: int) -> StatusResult:
        return await self._read(api_key, "getStatus", parse.parse_status, id=activation_id)

    async def get_status_v2(self, api_key: str, activation_id: int) -> StatusResult:
        """getStatusV2, falling back to getStatus for good once the provider lacks it."""
        if self.has_status_v2:
            try:
                return await self._read(api_key, "getStatusV2", parse.parse_status_v2,
                                        id=activation_id)
            except BadAction:
                log.info("provider has no getStatusV2; using getStatus from now on")
                self.has_status_v2 = False
        return await self.get_status(api_key, activation_id)

    async def get_active_activations(self, api_key: str) -> list[ActiveActivation]:
        try:
            return await self._read(api_key, "getActiveActivations", parse.parse_active)
        except BadAction:
            self.has_active_list = False
            raise

    async def find_in_history(self, api_key: str, activation_id: int) -> HistoryEntry | None:
        """The activation as the provider's history shows it; None when the history does
        not list it or the provider has no history (learnt once, like other actions)."""
        if not self.has_history:
            return None
        try:
            entries = await self._read(api_key, "getHistory", parse_tables.parse_history)
        except BadAction:
            log.info("provider has no getHistory; finished activations can't be looked up")
            self.has_history = False
            return None
        return next((e for e in entries if e.activation_id == activation_id), None)

    # --- prices --------------------------------------------------------------------------

    async def get_prices(self, api_key: str, service: str | None = None,
                         country: int | None = None) -> list[CountryOffer]:
        return await self._read(api_key, "getPrices", parse_tables.parse_prices_v1,
                                service=service, country=country)

    async def get_prices_v3(self, api_key: str, service: str | None = None,
                            country: int | None = None) -> list[CountryOffer]:
        return await self._read(api_key, "getPricesV3", parse_tables.parse_prices_v3,
                                service=service, country=country)

    async def get_offers(self, api_key: str, service: str | None = None,
                         country: int | None = None) -> list[CountryOffer]:
        """The richest price list the provider has: V3 (with providers), else V1."""
        if self.has_prices_v3:
            try:
                return await self.get_prices_v3(api_key, service, country)
            except BadAction:
                log.info("provider has no getPricesV3; using getPrices from now on")
                self.has_prices_v3 = False
        return await self.get_prices(api_key, service, country)


def _scrub(exc: KoalaError, api_key: str) -> None:
    """The provider's own words may quote the key ("key abc... is blocked"); they go on to
    logs and chats, so the key is masked in them here, where it is known."""
    exc.text = redact(exc.text, api_key)
    exc.args = (exc.text,)
    if isinstance(exc, Banned) and exc.until:
        exc.until = redact(exc.until, api_key)


def _price(value: float) -> str:
    # The very digits shown to the person (bot.money), so maxPrice is the price they saw.
    return amount_text(value).rstrip("0").rstrip(".")


def _ids(values: Iterable[int] | None) -> str | None:
    if values is None:
        return None
    joined = ",".join(str(int(v)) for v in values)
    return joined or None


