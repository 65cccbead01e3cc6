"""The embedded default fed from another process: `xinfang run` without a broker, and
`xinfang publish` without one on the same SQLite file. The publisher registers and routes the
cases itself; the running process relays their events and holds them to their clocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from support import valid_cases, wait_for

from dispatcher.adapters.db.tables import cases, clocks, events

pytestmark = pytest.mark.e2e

XINFANG = [sys.executable, "-m", "dispatcher.cli"]
CASES = 20


def test_a_running_embedded_xinfang_takes_the_cases_another_process_publishes(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'xinfang.db'}"
    clean = {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}
    env = clean | {
        "XINFANG_DATABASE_URL": database,
        "XINFANG_RELAY_INTERVAL": "0.05",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([*XINFANG, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen([*XINFANG, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "feed it with" in log.read_text("utf-8"), "xinfang run to be ready")
            published = _publish(tmp_path, env)
            engine = create_engine(database)
            wait_for(lambda: _unpublished(engine) == 0, "the running process to relay the events")
        finally:
            run.terminate()
            assert run.wait(timeout=60) == 0, log.read_text("utf-8")

    assert published.returncode == 0, published.stderr
    assert published.stdout.splitlines()[0] == f"published {CASES}, failed 0"
    with engine.connect() as conn:
        rows = conn.execute(select(cases.c.stage, func.count()).group_by(cases.c.stage)).all()
        stages = {stage: count for stage, count in rows}
        registered = conn.scalar(select(func.count()).where(events.c.type == "registered"))
        open_clocks = conn.scalar(select(func.count()).where(clocks.c.met_at.is_(None)))
    assert sum(stages.values()) == CASES and set(stages) <= {"assigned", "triage"}, stages
    assert registered == CASES
    assert open_clocks >= CASES  # every case is held to its next deadline


def _publish(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    lines = tmp_path / "cases.jsonl"
    lines.write_text(
        "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in valid_cases(CASES)),
        encoding="utf-8",
    )
    return subprocess.run(
        [*XINFANG, "publish", str(lines)], env=env, capture_output=True, text=True, timeout=120
    )


def _unpublished(engine) -> int:
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(events))
        waiting = conn.scalar(select(func.count()).where(events.c.published_at.is_(None)))
    return int(waiting) if total else -1
