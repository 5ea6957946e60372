"""How an instance names itself in leases and logs: host:pid:random (the random part tells
a restarted process with a reused pid from its predecessor)."""

from __future__ import annotations

import os
import secrets
import socket


def instance_id() -> str:
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(3)}"
