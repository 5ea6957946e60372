"""`python -m bot` runs the bot; `python -m bot --sandbox` runs it against a built-in
emulated KoalaSMS account, so every feature can be tried with no money."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import sys

from bot import event_loop
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure as configure_logging

log = logging.getLogger("bot")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--sandbox", action="store_true",
                        help="run against a built-in emulated provider (no real money)")
    parser.add_argument("--sandbox-port", type=int, default=0,
                        help="port of the emulated provider (default: any free port)")
    parser.add_argument("--sandbox-sms-after", type=float, default=20.0, metavar="SECONDS",
                        help="in the sandbox, an SMS arrives this long after a number is "
                        "bought (0: only through the control API)")
    parser.add_argument("--playground", action="store_true",
                        help="run the bot in a local web page with emulated Telegram and "
                        "provider (needs no configuration)")
    parser.add_argument("--port", type=int, default=None,
                        help="port of the playground page (default 8080, or any free one "
                        "when taken; 0: any free port)")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL"),
                        help="default INFO (WARNING in the playground, whose page shows it all)")
    return parser.parse_args(argv)


async def run_sandbox(settings: Settings, port: int, sms_after: float) -> None:
    from bot.app import run
    from bot.sandbox.demo import deliver_codes
    from bot.sandbox.provider import ProviderSandbox

    provider = ProviderSandbox(cancel_delay=60.0, lifetime=600.0)
    provider.load_demo_catalogue()
    demo_key = "demo" + secrets.token_hex(12)
    provider.add_account(demo_key, balance=100.0)
    url = await provider.start(port=port)
    settings.KOALA_API_URL = url
    print(f"Sandbox provider on {url}", flush=True)
    print(f"Demo API key: {demo_key}  (send /key {demo_key} to the bot)", flush=True)
    if sms_after > 0:
        print(f"An SMS arrives by itself {sms_after:g} s after each purchase.", flush=True)
    print("Deliver one yourself: curl -X POST -d '{\"id\": ID, \"code\": \"12345\"}' "
          f"{url.rsplit('/stubs', 1)[0]}/control/sms", flush=True)
    codes = asyncio.create_task(deliver_codes(provider, after=sms_after)) if sms_after > 0 else None
    try:
        await run(settings, own_process=True)
    finally:
        if codes is not None:
            codes.cancel()
        await provider.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.log_level is None:
        args.log_level = "WARNING" if args.playground else "INFO"
    # Text until the settings say otherwise (a config error is printed, not logged).
    configure_logging(args.log_level, os.environ.get("LOG_FORMAT", "text").strip().lower())
    # Alembic lists its plugins at INFO on import: noise before the bot's own first line.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.playground:
        return run_playground(args.port)
    try:
        if args.sandbox:
            overrides: dict[str, object] = {}
            if "DATABASE_URL" not in os.environ:
                overrides["DATABASE_URL"] = "sqlite+aiosqlite:///./data/sandbox.db"
            settings = load_settings(require_secret=False, **overrides)
        else:
            settings = load_settings()
    except ConfigError as exc:
        print(f"koalabot: {exc}", file=sys.stderr)
        return 2
    configure_logging(args.log_level, settings.LOG_FORMAT)
    from bot.app import TokenRejected, run

    with contextlib.suppress(KeyboardInterrupt):
        try:
            event_loop.run(run_sandbox(settings, args.sandbox_port, args.sandbox_sms_after)
                           if args.sandbox else run(settings, own_process=True),
                           settings.EVENT_LOOP)
        except TokenRejected as exc:
            print(f"koalabot: Telegram rejected BOT_TOKEN: {exc} (check the token @BotFather "
                  "gave you)", file=sys.stderr)
            return 1
    return 0


def run_playground(port: int | None) -> int:
    """No settings read: the playground makes its own (a temporary database unless
    DATABASE_URL is set)."""
    from bot.playground.run import run_playground as serve

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(port, os.environ.get("DATABASE_URL") or None))
        except OSError as exc:
            print(f"koalabot: the playground could not listen on port {port}: {exc.strerror}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
