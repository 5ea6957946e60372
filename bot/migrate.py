"""Start-up migrations in a child process: `python -m bot` never imports Alembic.

Alembic and its templates cost the process about 12 MiB for as long as it runs, although
they are used for a second at start-up. The child (`python -m bot.migrate`) runs the very
same `storage.db.migrate` on its own engine, PostgreSQL's advisory lock included, so
instances starting together still migrate once; the parent waits for it and carries on
only when it succeeded. Its log lines go to the same stderr in the same format.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bot.logs import configure as configure_logging

# The child's whole configuration, from the parent (never from argv: a URL may hold a
# password, and argv is visible to every user of the machine).
URL_VARIABLE = "KOALABOT_MIGRATE_URL"


class MigrationFailed(RuntimeError):
    pass


async def migrate_in_child(url: str, *, log_format: str = "text") -> None:
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    env = {**os.environ, URL_VARIABLE: url, "LOG_LEVEL": str(level), "LOG_FORMAT": log_format}
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.migrate", env=env)
    try:
        code = await child.wait()
    except BaseException:
        if child.returncode is None:  # cancelled (the bot is stopping): no orphan left
            child.kill()
            await child.wait()
        raise
    if code != 0:
        raise MigrationFailed(f"the database migrations failed (exit code {code}; "
                              "see the lines above)")


async def _migrate(url: str) -> None:
    from storage.db import create_engine, migrate

    engine = create_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def main() -> int:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print("bot.migrate: run by `python -m bot` (it passes the database URL)",
              file=sys.stderr)
        return 2
    configure_logging(os.environ.get("LOG_LEVEL") or "INFO",
                      (os.environ.get("LOG_FORMAT") or "text").strip().lower())
    # Alembic lists its plugins at INFO on import: noise before the bot's own first line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        asyncio.run(_migrate(url))
    except Exception:
        logging.getLogger("bot.migrate").exception("the database migrations failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
