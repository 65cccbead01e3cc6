"""`xinfang run` as a real process against RabbitMQ and PostgreSQL: events come out, SIGTERM
drains, and SIGKILL in the middle of a stream loses nothing and does nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from support import bind_events_queue, drain, publish_raw, valid_cases, wait_for

from dispatcher.adapters.db.tables import cases, events

pytestmark = pytest.mark.e2e

XINFANG = [sys.executable, "-m", "dispatcher.cli"]


def _env(amqp_url: str, pg_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "XINFANG_BROKER_URL": amqp_url,
        "XINFANG_DATABASE_URL": pg_url,
        "XINFANG_RELAY_INTERVAL": "0.05",
        "PYTHONUNBUFFERED": "1",
    }


class Run:
    """One `xinfang run` process, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [*XINFANG, "run"], env=env, stdout=self._out, stderr=subprocess.STDOUT
        )
        wait_for(
            lambda: "intake consumer ready" in self.text() or self.process.poll() is not None,
            "xinfang run to be ready",
            timeout=60,
        )
        assert self.process.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=90)
        self._out.close()
        return code


@pytest.fixture
def upgraded(pg_url: str) -> Iterator[str]:
    result = subprocess.run(
        [*XINFANG, "db", "upgrade"],
        env=_env("", pg_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    yield pg_url


def _count(engine, query) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_a_phone_case_comes_out_assigned_and_sigterm_exits_cleanly(
    amqp_url: str, upgraded: str, tmp_path: Path
) -> None:
    bind_events_queue(amqp_url)
    run = Run(_env(amqp_url, upgraded), tmp_path / "run.log")
    case = next(c for c in valid_cases(40, seed=5) if c.get("category") == "housing")
    case["channel"] = "phone"
    publish_raw(amqp_url, [("case.phone", json.dumps(case, ensure_ascii=False).encode())])
    received: list[dict] = []

    def assigned() -> bool:
        received.extend(json.loads(body) for _, body in drain(amqp_url, "test.events"))
        return any(e["type"] == "case.assigned" for e in received)

    wait_for(assigned, "case.assigned on xinfang.events", timeout=60)
    assert run.stop(signal.SIGTERM) == 0, run.text()
    event = next(e for e in received if e["type"] == "case.assigned")
    assert (event["source"], event["external_id"]) == (case["source"], case["external_id"])
    assert event["data"]["org_unit"]["kind"] == "housing"
    assert "all roles stopped" in run.text()


def test_sigkill_mid_stream_then_restart_loses_nothing_and_repeats_nothing(
    amqp_url: str, upgraded: str, tmp_path: Path
) -> None:
    engine = create_engine(upgraded)
    bind_events_queue(amqp_url)
    batch = valid_cases(400, seed=21)
    env = _env(amqp_url, upgraded)
    first = Run(env, tmp_path / "first.log")
    publish_raw(
        amqp_url,
        [(f"case.{c['channel']}", json.dumps(c, ensure_ascii=False).encode()) for c in batch],
    )
    wait_for(
        lambda: _count(engine, select(func.count()).select_from(cases)) >= 40,
        "some cases to be registered before the kill",
    )
    first.stop(signal.SIGKILL)
    assert _count(engine, select(func.count()).select_from(cases)) < 400, "killed too late"

    second = Run(env, tmp_path / "second.log")
    wait_for(
        lambda: (
            _count(
                engine, select(func.count()).select_from(cases).where(cases.c.stage != "registered")
            )
            == 400
            and _count(
                engine,
                select(func.count()).select_from(events).where(events.c.published_at.is_(None)),
            )
            == 0
        ),
        "all 400 cases routed and every event published after the restart",
    )
    assert second.stop() == 0

    with engine.connect() as conn:
        per_case = Counter(
            (row.case_id, row.type)
            for row in conn.execute(
                select(events.c.case_id, events.c.type).where(events.c.case_id.is_not(None))
            )
        )
    assert len(per_case) == 800  # a registered and a routed event for each of 400 cases
    assert set(per_case.values()) == {1}, "an event was recorded twice"
    published = {json.loads(body)["event_id"] for _, body in drain(amqp_url, "test.events")}
    assert len(published) == 800  # at least once on the wire, every one of them
    engine.dispose()


def test_run_refuses_a_database_without_the_schema(amqp_url: str, pg_url: str) -> None:
    result = subprocess.run(
        [*XINFANG, "run"], env=_env(amqp_url, pg_url), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "xinfang db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
