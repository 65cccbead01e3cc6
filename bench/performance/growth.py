"""Rows `growth`: the cost of a new case as the cases stored grow tenfold, twice.

For each size (10,000, 100,000 and 1,000,000 cases; --quick 1,000, 10,000, 100,000) a fresh,
upgraded database gets that many cases with their events, clocks and parties in bulk
(bench/performance/history.py: a fixed number a day, the smallest size / 10, so 10× the cases
is 10× the days), then ANALYZE. The same K new cases (received during the last day, after the
history) are registered and routed in this process through the services, the way `xinfang run`
does: batches of the intake's batch size through `app.intake.receive_many`, and each batch's
new cases through `app.routing.route_many` (one route message of the intake, one transaction
of a worker). Two warm-up batches before them are not counted. They go in five rounds; the figure
is the median round's time per new case (a burst of other work on the machine moves one round);
the rows compare each size with the one ten times smaller (the bigger size's cost is the
xinfang column, the smaller's the baseline), goal ≤ 1.1: the cost stays flat.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

from bench.performance import history
from bench.performance.cases import Case, body, fresh_cases, routing_key
from bench.performance.processes import BenchError
from bench.performance.sizes import Sizes
from bench.performance.stack import fresh_stack
from bench.performance.table import Row, at_most
from dispatcher.bootstrap.app import App, build
from dispatcher.bootstrap.settings import Settings
from dispatcher.demo.sample import CST
from dispatcher.services.intake import Incoming, Registered

NAME = "growth"
GOAL = at_most(1.1)
HISTORY_DAYS_AT_SMALLEST = 10
ROUNDS = 5  # the new cases in rounds; the median round's cost per case is the figure


def ingest(app: App, cases: Sequence[Case]) -> Counter[str]:
    """Register and route `cases` as the intake consumer and the route actor do; the outcomes."""
    outcomes: Counter[str] = Counter()
    size = max(1, app.settings.intake_batch)
    for start in range(0, len(cases), size):
        batch = cases[start : start + size]
        received = app.intake.receive_many(
            [Incoming(body(case), "application/json", routing_key(case)) for case in batch]
        )
        outcomes.update(type(outcome).__name__ for outcome in received)
        new = [outcome.case_id for outcome in received if isinstance(outcome, Registered)]
        if new:
            routed = app.routing.route_many(new)
            outcomes.update("routed" for r in routed if not isinstance(r, Exception))
    return outcomes


def per_case(stored: int, per_day: float, cases: list[Case], warm: int, logs: Path) -> float:
    """Seconds per new case with `stored` cases already there."""
    now = datetime.now(CST).replace(microsecond=0)
    with fresh_stack(f"growth{stored}", logs, broker=False) as stack:
        stack.upgrade()
        engine = stack.engine()
        started = time.perf_counter()
        try:
            history.fill(engine, stored, per_day, now - timedelta(days=1))
            rows = history.counts(engine)
        finally:
            engine.dispose()
        filled = time.perf_counter() - started
        app = build(Settings.from_env(stack.env()))
        outcomes: Counter[str] = Counter()
        costs = []
        try:
            ingest(app, cases[:warm])
            timed = cases[warm:]
            size = -(-len(timed) // ROUNDS)
            for start in range(0, len(timed), size):
                chunk = timed[start : start + size]
                started = time.perf_counter()
                outcomes += ingest(app, chunk)
                costs.append((time.perf_counter() - started) / len(chunk))
        finally:
            app.close()
    cost = statistics.median(costs)
    print(
        f"  growth: {stored:,} stored ({', '.join(f'{t} {n:,}' for t, n in rows.items())}; "
        f"{filled:.0f} s to fill): {len(timed)} new cases in {len(costs)} rounds, "
        f"{' '.join(f'{c * 1000:.2f}' for c in costs)} ms/case, median {cost * 1000:.2f}; "
        f"{dict(outcomes)}",
        flush=True,
    )
    if outcomes["routed"] == 0:
        raise BenchError(f"no new case was routed at {stored} stored: {dict(outcomes)}")
    return cost


def _label(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    smallest = sizes.growth_stored[0]
    per_day = smallest / HISTORY_DAYS_AT_SMALLEST
    warm = 100  # two intake batches
    now = datetime.now(CST).replace(microsecond=0)
    cases = fresh_cases(warm + sizes.growth_new, end=now, span=timedelta(hours=20))
    costs = [per_case(stored, per_day, cases, warm, logs) for stored in sizes.growth_stored]
    rows = []
    measured = zip(sizes.growth_stored, costs, strict=True)
    for (small, small_cost), (big, big_cost) in pairwise(measured):
        rows.append(
            Row(
                f"growth: cost per new case {_label(big)}/{_label(small)}",
                f"{big_cost * 1000:.2f} ms @{_label(big)}",
                f"{small_cost * 1000:.2f} ms @{_label(small)}",
                big_cost / small_cost,
                GOAL,
            )
        )
    return rows
