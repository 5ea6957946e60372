"""docker-compose.yml, the Dockerfile and the pins. No container engine runs on the test
machines, so the files are checked as data: the compose file parses and holds together,
the image installs what the lock file pins, and the health check command works against a
real bot."""

from __future__ import annotations

import asyncio
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.app import App
from bot.config import load_settings
from tests.test_ops_health import metered  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def pins(name: str) -> dict[str, str]:
    result = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, version = line.split("==")
            result[package.lower().replace("_", "-").replace(".", "-")] = version
    return result


def test_compose_runs_two_bots_postgres_and_redis_with_health_checks() -> None:
    data = compose()
    services = data["services"]
    assert set(services) == {"bot-1", "bot-2", "postgres", "redis"}
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert "image" in service or "build" in service, name
    for name in ("bot-1", "bot-2"):
        bot = services[name]
        assert bot["depends_on"] == {"postgres": {"condition": "service_healthy"},
                                     "redis": {"condition": "service_healthy"}}
        env: dict[str, Any] = {k: str(v) for k, v in bot["environment"].items()}
        # The variables are ones the bot accepts (hosts named after the services).
        settings = load_settings(BOT_TOKEN="1:x", SECRET_KEY="s" * 32, **env)
        assert settings.DATABASE_URL.split("@")[1].startswith("postgres:5432/")
        assert settings.REDIS_URL == "redis://redis:6379/0"
        assert settings.METRICS_PORT == 9090
        assert settings.LOG_FORMAT == "json"
        assert "9090" in bot["healthcheck"]["test"][-1]
    # A named volume, declared and used.
    assert "pgdata" in data["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    # Two instances are safe (tests/test_multi_instance.py proves it): no warning left.
    source = (ROOT / "docker-compose.yml").read_text()
    assert "NOT safe" not in source
    assert "stands by" in source  # polling mode: one polls, the other waits


async def test_compose_health_check_command_works_against_a_running_bot(
        metered: tuple[App, str]) -> None:  # noqa: F811
    _, base = metered
    port = base.rsplit(":", 1)[1]
    from tests.test_ops_health import wait_health

    await wait_health(base, 200)
    command = compose()["services"]["bot-1"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    code = command[3].replace("9090", port)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code)
    assert await proc.wait() == 0

    # The Dockerfile's, as Docker runs it: continuation lines joined, through /bin/sh.
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", "")
    shell = re.search(r"^HEALTHCHECK .*? CMD (.*)$", text, re.MULTILINE)
    assert shell is not None
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "METRICS_PORT": port}
    proc = await asyncio.create_subprocess_exec("/bin/sh", "-c", shell[1], env=env)
    assert await proc.wait() == 0


def test_dockerfile_installs_from_the_lock_and_has_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN pip install -c requirements\.lock -r requirements\.txt$", text,
                     re.MULTILINE)
    assert "COPY requirements.txt requirements.lock" in text
    assert re.search(r"^HEALTHCHECK .*\n.*CMD python", text, re.MULTILINE)
    assert "/healthz" in text


def test_runtime_pins_agree_with_the_lock_and_pyproject() -> None:
    runtime, lock = pins("requirements.txt"), pins("requirements.lock")
    for package, version in runtime.items():
        assert lock.get(package) == version, package
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=\[ ]", requirement)[0].lower().replace("_", "-").replace(".", "-")
        assert name in runtime, name
