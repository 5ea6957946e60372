"""The delivery benchmark at a tiny size, so it keeps working (CI runs these).

Benchmarks are not tests: nothing here is timed. Each mode runs once against the real
`python -m bot` process and the emulators' process; the checks are that every code was
delivered (or every user answered) and that the report has its rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import delivery
from tests.test_backends import needs_postgres, needs_redis


def last_row(lines: list[str]) -> list[str]:
    return [cell.strip() for cell in lines[-1].strip("|").split("|")]


def test_machine_is_described() -> None:
    lines = delivery.main(["--keys", "3", "--activations", "6", "--rate", "20", "--runs", "1",
                           "--poll-interval", "0.3", "--timeout", "60"])
    assert any(line.startswith("Machine: ") and "cores" in line for line in lines)
    row = last_row(lines)
    assert row[:4] == ["3", "6", "20", "none"]
    assert row[8] == "6/6"  # delivered/expected


@pytest.mark.parametrize("stall", ["group429", "hanging-keys"])
def test_stall_cases(stall: str) -> None:
    lines = delivery.main(["--keys", "2", "--activations", "4", "--rate", "20", "--runs", "1",
                           "--poll-interval", "0.3", "--stall", stall,
                           "--stall-seconds", "1", "--retry-after", "1", "--timeout", "60"])
    row = last_row(lines)
    assert row[3].startswith(stall)
    assert "stalled codes delivered" in row[3]
    assert row[8] == "4/4"


def test_sms_age_background_and_trace(tmp_path: Path) -> None:
    """Numbers bought on schedule before their SMS, running numbers without SMS, and the
    poller trace (bench/poll_trace.py) kept with every code's times."""
    lines = delivery.main(["--keys", "3", "--activations", "4", "--background", "2",
                           "--sms-age", "1", "--rate", "20", "--runs", "1",
                           "--poll-interval", "0.3", "--timeout", "60",
                           "--trace", str(tmp_path)])
    row = last_row(lines)
    assert row[1] == "4 (+2 without SMS)"
    assert row[2] == "20 (1 s after purchase)"
    assert row[8] == "4/4"
    assert any(line.startswith("Poller trace, run 1") for line in lines)
    kept = next(tmp_path.glob("run-*"))
    assert (kept / "codes.json").exists()
    assert (kept / delivery.TRACE).exists()


def test_menus() -> None:
    lines = delivery.main(["--menus", "--users", "3", "--rounds", "1", "--runs", "1"])
    rows = [line for line in lines if line.startswith("| `/")]
    assert [r.split("|")[1].strip() for r in rows] == ["`/start`", "`/balance`", "`/buy`"]
    assert all(r.split("|")[4].strip() == "3" for r in rows)  # answers


def test_rss_and_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n")
    monkeypatch.setattr(delivery, "RESULTS", results)
    delivery.main(["--rss", "--users", "5", "--runs", "1", "--poll-interval", "0.3",
                   "--write"])
    written = results.read_text()
    assert "python -m bench.delivery --rss --users 5" in written
    assert last_row(written.strip().splitlines())[:2] == ["5", "0"]


@pytest.mark.parametrize("http", [True, False])
async def test_poll_tick_cost_per_key(http: bool, capsys: pytest.CaptureFixture[str]) -> None:
    from bench import poll_tick

    await poll_tick.measure_keys(5, http=http)
    out = capsys.readouterr().out
    assert "5 keys, one running number each" in out
    # Every just-bought number is asked each tick (a tick that overlaps a background round
    # may count one more: the figure is a measurement, not an exact count).
    just_bought = out.split("numbers 5 minutes old")[0]
    asked = re.findall(r"(\d+(?:\.\d+)?) getActiveActivations/tick", just_bought)
    assert asked, out
    assert float(asked[-1]) >= 5, out
    assert "5 keys, numbers 5 minutes old" in out


def test_latency_menus_with_running_activations() -> None:
    from bench import latency

    lines = latency.main(["--users", "2", "--activations", "4", "--rounds", "1", "--runs", "1"])
    row = last_row(lines)
    assert row[:4] == ["2", "4", "6", "1"]  # users, activations, updates, runs
    assert float(row[5]) > 0  # bot CPU ms per update


def open_loop_answers_every_step(users: int, activations: int, *more: str) -> None:
    """A tiny open-loop run (10 updates/s for 2 s): every step answered."""
    from bench import latency

    lines = latency.main(["--users", str(users), "--activations", str(activations),
                          "--rate", "10", "--seconds", "2", "--warmup", "0", "--runs", "1",
                          *more])
    row = last_row(lines)
    # offered, users, activations, s, runs
    assert row[:5] == ["10", str(users), str(activations), "2", "1"]
    assert float(row[6]) > 0  # achieved updates/s
    assert row[7].endswith("/ 0")  # no step failed
    assert not any(line.startswith("Failed steps") for line in lines)


def test_latency_open_loop() -> None:
    """Poisson arrivals through the commands and the buy buttons; every step answered."""
    open_loop_answers_every_step(2, 4)


async def test_update_cost_counts(capsys: pytest.CaptureFixture[str]) -> None:
    from bench import update_cost

    await update_cost.measure(2, 1, freeze=False)  # freezing would hold this test process
    out = capsys.readouterr().out
    assert "updates=6 " in out
    assert "SQL statements:" in out


async def test_code_cost_counts_statements_per_code() -> None:
    from bench import code_cost

    out = await code_cost.measure(3)
    assert out["statements"] > 0
    assert out["commits"] > 0


def test_latency_open_loop_on_the_framework_floor() -> None:
    """The floor bot takes the same steps as koalabot: every one answered."""
    open_loop_answers_every_step(2, 0, "--bot", "bench.floor_bot")


@needs_postgres
@needs_redis
def test_latency_open_loop_on_two_webhook_instances() -> None:
    """Two koalabot processes in webhook mode on PostgreSQL take the same steps."""
    open_loop_answers_every_step(3, 2, "--instances", "2")
