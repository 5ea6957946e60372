"""Keep API keys out of logs, exception texts and chats.

Keys travel in the provider's query string, so any URL we print must be scrubbed.
"""

from __future__ import annotations

import logging
import re

_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"'<>]+", re.IGNORECASE)
MASK = "***"


def redact(text: str, *secrets: str | None) -> str:
    """Mask `api_key=` query values and any of the given secret strings."""
    text = _KEY_IN_URL.sub(rf"\g<1>{MASK}", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def mask_key(key: str) -> str:
    """A recognisable but useless form of a key for showing to its owner."""
    if len(key) <= 8:
        return "•" * len(key)
    return f"{key[:3]}…{key[-3:]}"


class RedactingFilter(logging.Filter):
    """Scrubs every record that passes through a handler, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # The formatted traceback is cached on the record; scrub it too.
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text).rstrip("\n")
            record.exc_info = None
            record.msg = f"{record.msg}\n{record.exc_text}"
            record.exc_text = None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
