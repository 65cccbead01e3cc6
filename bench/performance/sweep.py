"""Row `sweep`: finding the clocks past a ladder step among many open ones.

The `clocks` table of a fresh, upgraded database is filled with one SQL statement
(INSERT … SELECT generate_series): N open acceptance clocks, 1 % with next_step_at in the past,
the rest in the future; then ANALYZE. ladder_store.clocks_due reads `clocks` alone (no join),
so no `cases` rows are made; the count found is checked against the count due.
xinfang: the scheduler's job, workers.scheduler.enqueue_escalations(app.escalations, clock,
enqueue) with an enqueue that only collects. It finds at most its batch (BATCH) per run, and
the next run finds the next ones once the escalations have moved those clocks on; so it is
run again and again, the clocks it found moved a step on between runs (untimed, as the
escalate actor would), until every due clock was found. The figure is the runs' total time.
Baseline: one bare `UPDATE clocks SET updated_at = now() WHERE next_step_at <= :now RETURNING
case_id, name` on the same table, inside a transaction rolled back (then VACUUM ANALYZE),
before xinfang's runs.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from bench.performance.figures import seconds
from bench.performance.processes import BenchError
from bench.performance.sizes import Sizes
from bench.performance.stack import Stack, fresh_stack
from bench.performance.table import Row, at_most
from dispatcher.bootstrap.app import build
from dispatcher.bootstrap.settings import Settings
from workers.scheduler import enqueue_escalations

NAME = "sweep"
GOAL = at_most(2.0)
DUE_EVERY = 100  # 1 %

FILL = text("""
insert into clocks (case_id, name, started_at, due_at, met_at, status, article, updated_at,
                    period, ladder, next_step, next_step_at)
select md5('case' || g)::uuid::text, 'acceptance', started, started + interval '15 days',
       null, 'running', 'Art 23', started,
       to_char(started at time zone 'UTC', 'YYYYMMDD"T"HH24MISS"Z"') || '+0d/0', 'period-15d',
       'warning',
       case when g % :every = 0
            then :now - (g % 97 + 1) * interval '1 hour'
            else :now + (g % 29 + 1) * interval '1 day' + (g % 3600) * interval '1 second'
       end
from generate_series(1, :count) as g,
     lateral (select :now - (g % 14) * interval '1 day' as started) as s
""")
BARE = text(
    "update clocks set updated_at = now() where next_step_at <= :now returning case_id, name"
)
COUNT_DUE = text("select count(*) from clocks where next_step_at <= :now")
MOVE_ON = text(
    "update clocks set next_step_at = next_step_at + interval '3650 days' "
    "where case_id = :case_id and name = :name"
)


def fill(engine: Engine, count: int, now: datetime) -> int:
    with engine.begin() as conn:
        conn.execute(FILL, {"count": count, "every": DUE_EVERY, "now": now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("analyze clocks"))
        conn.execute(text("checkpoint"))  # its writes are not left to run beside the timing
        return int(
            conn.scalar(
                text("select count(*) from clocks where next_step_at <= :now"), {"now": now}
            )
            or 0
        )


def bare_seconds(engine: Engine, now: datetime, due: int) -> float:
    with engine.connect() as conn:
        started = time.perf_counter()
        rows = conn.execute(BARE, {"now": now}).all()
        elapsed = time.perf_counter() - started
        conn.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("vacuum analyze clocks"))
    if len(rows) != due:
        raise BenchError(f"the bare UPDATE returned {len(rows)} of {due} due clocks")
    return elapsed


def xinfang_seconds(stack: Stack, engine: Engine, now: datetime, due: int) -> tuple[float, int]:
    """The total time of the scheduler job's runs until every due clock was found; and runs."""
    app = build(Settings.from_env(stack.env()), clock=lambda: now)
    found: set[tuple[str, str]] = set()
    batch: list[tuple[str, str]] = []

    def collect(case_id: str, name: str, _as_of: datetime) -> None:
        batch.append((case_id, name))

    total, runs = 0.0, 0
    try:
        while len(found) < due:
            batch.clear()
            started = time.perf_counter()
            enqueue_escalations(app.escalations, app.clock, collect)
            total += time.perf_counter() - started
            runs += 1
            fresh = set(batch) - found
            if not fresh:
                break
            found |= fresh
            with engine.begin() as conn:  # what the escalations do to the clocks they take
                conn.execute(MOVE_ON, [{"case_id": c, "name": n} for c, n in fresh])
    finally:
        app.close()
    if len(found) != due:
        raise BenchError(f"enqueue_escalations found {len(found)} of {due} due clocks")
    return total, runs


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    count = sizes.sweep_clocks
    now = datetime.now(UTC).replace(microsecond=0)
    with fresh_stack("sweep", logs, broker=False) as stack:
        stack.upgrade()
        engine = stack.engine()
        try:
            started = time.perf_counter()
            due = fill(engine, count, now)
            print(
                f"  sweep: {count} open clocks, {due} due, filled in "
                f"{seconds(time.perf_counter() - started)}",
                flush=True,
            )
            bare = bare_seconds(engine, now, due)
            ours, runs = xinfang_seconds(stack, engine, now, due)
        finally:
            engine.dispose()
    print(f"  sweep: xinfang found them in {runs} runs of enqueue_escalations", flush=True)
    return [
        Row(
            f"escalation sweep ({count:,} clocks, 1 % due)",
            seconds(ours),
            seconds(bare),
            ours / bare,
            GOAL,
        )
    ]
