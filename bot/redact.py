"""Keep API keys out of logs, exception texts and chats.

Keys travel in the provider's query string, so any URL we print must be scrubbed.
"""

from __future__ import annotations

import logging
import re
import traceback

# `api_key=...` in a URL or form, and `'api_key': '...'` / `"api_key":"..."` in a printed
# dict or JSON body.
_KEY_IN_URL = re.compile(r"""(api_key(?:=|['"]?\s*:\s*['"]?))[^&\s"'<>,}]+""", re.IGNORECASE)
MASK = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Mask `api_key=` query values and any of the given secret strings."""
    text = _KEY_IN_URL.sub(rf"\g<1>{MASK}", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Scrubs every record that passes through a handler, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it
            return True
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback here, scrubbed, instead of letting the formatter print
            # the raw one. It joins the message, so `args` must go: a `%` in a traceback
            # would otherwise break the formatting (and the logging error would print the
            # raw traceback, key included).
            text = "".join(traceback.format_exception(*record.exc_info))
            cleaned = f"{cleaned}\n{redact(text).rstrip()}"
            record.exc_info = None
            record.exc_text = None
        elif record.exc_text:  # formatted by an earlier handler
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
