"""API keys never reach logs or texts: redact(), mask_key() and the logging filter."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.redact import MASK, RedactingFilter, install_log_redaction, redact
from storage.crypto import mask_key

KEY = "sEcReTkEy0123456789abcdef"


@pytest.mark.parametrize(("text", "expected"), [
    (f"https://p/stubs/handler_api.php?api_key={KEY}&action=getBalance",
     "https://p/stubs/handler_api.php?api_key=***&action=getBalance"),
    (f"GET /h.php?action=getStatus&api_key={KEY}", "GET /h.php?action=getStatus&api_key=***"),
    (f"URL('http://h/h.php?API_KEY={KEY}')", "URL('http://h/h.php?API_KEY=***')"),
    (f'<a href="x?api_key={KEY}">', '<a href="x?api_key=***">'),
    (f"{{'api_key': '{KEY}', 'action': 'getNumberV2'}}",
     "{'api_key': '***', 'action': 'getNumberV2'}"),
    (f'{{"api_key":"{KEY}"}}', '{"api_key":"***"}'),
    (f"api_key={KEY}\nnext line", "api_key=***\nnext line"),
    ("nothing to hide here", "nothing to hide here"),
    ("api_key=", "api_key="),
])
def test_redact_urls_and_bodies(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_given_secrets_anywhere() -> None:
    assert redact(f"bad key {KEY} (twice: {KEY})", KEY) == f"bad key {MASK} (twice: {MASK})"
    assert redact(f"token {KEY}", None, "", KEY) == f"token {MASK}"
    # Too short to be a key: replacing it would mangle ordinary text instead.
    assert redact("a cat sat", "a") == "a cat sat"
    assert redact("abc", "abc") == "abc"


@pytest.mark.parametrize(("key", "expected"), [
    ("abcdefghijklmnop", "abc…nop"),
    ("123456789", "123…789"),
    ("12345678", "••••••••"),
    ("abc", "•••"),
    ("", ""),
])
def test_mask_key(key: str, expected: str) -> None:
    assert mask_key(key) == expected


def test_a_masked_key_hides_most_of_it() -> None:
    masked = mask_key(KEY)
    assert KEY not in masked
    assert len(masked.replace("…", "")) == 6


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose only handler carries the filter, as install_log_redaction sets up."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_filter_scrubs_messages_and_args(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.warning("calling %s?api_key=%s", "http://h/h.php", KEY)
    logger.warning("no secret: %d%%", 50)
    assert stream.getvalue() == "WARNING calling http://h/h.php?api_key=***\n" \
                                "WARNING no secret: 50%\n"


def test_filter_scrubs_tracebacks(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        try:
            raise OSError(f"connect to http://h/x?q=a%20b&api_key={KEY} failed")
        except OSError as exc:
            raise RuntimeError("provider unreachable") from exc
    except RuntimeError:
        # An argument, and a `%` in the traceback: formatting must still work.
        logger.exception("request %s failed", "getBalance")
    out = stream.getvalue()
    assert out.startswith("ERROR request getBalance failed\nTraceback")
    assert "OSError: connect to http://h/x?q=a%20b&api_key=*** failed" in out
    assert "RuntimeError: provider unreachable" in out
    assert "Logging error" not in out
    assert KEY not in out


def test_filter_scrubs_stack_info(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    url = f"http://h/x?api_key={KEY}"
    logger.warning("here", stack_info=True, extra={"url": url})
    logger.warning("about %s", url, stack_info=True)
    assert KEY not in stream.getvalue()
    assert "Stack (most recent call last)" in stream.getvalue()


def test_a_broken_format_passes_through_the_filter() -> None:
    # The filter must not raise in the caller's logging call; the handler reports it.
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "two %s %s", ("one",), None)
    assert RedactingFilter().filter(record) is True
    assert record.args == ("one",)


def test_install_log_redaction_covers_root_handlers_once() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logging.getLogger("tests.redaction.any").error("url ?api_key=%s", KEY)
        assert stream.getvalue() == "url ?api_key=***\n"
    finally:
        root.removeHandler(handler)
        for other in root.handlers:
            for filt in [f for f in other.filters if isinstance(f, RedactingFilter)]:
                other.removeFilter(filt)
