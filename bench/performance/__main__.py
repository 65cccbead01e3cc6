"""xinfang against bare baselines, side by side in one run on this machine's RabbitMQ
(127.0.0.1:5672, guest) and PostgreSQL (127.0.0.1:5432, postgres, trust):

    python -m bench.performance [--quick] [--only NAME,...] [--logs DIR]

It prints one table of ratios, preceded by a machine line (CPU, cores, Python, PostgreSQL,
RabbitMQ, SQLite and the versions of dramatiq, kombu, pika, SQLAlchemy and psycopg). Every row
runs the xinfang side and then its baseline, each on its own new vhost (rabbitmqctl add_vhost,
deleted afterwards) and database (CREATE DATABASE, dropped afterwards), and xinfang with the
product's defaults (only XINFANG_BROKER_URL and XINFANG_DATABASE_URL are set). Subprocesses
log into a temporary folder (--logs DIR keeps them there); a failure prints the tail of the
log and the row says "failed", the other rows go on. Sizes are the full ones below; --quick
takes about a tenth (bench/performance/sizes.py). Nothing here is a test: no figure is
asserted, a missed goal is reported, not raised.

throughput — e2e cases per second, goal ratio ≥ 1.0.
    xinfang: 3,000 cases (--quick 300) wait in xinfang.intake (topology declared, a subscriber
    queue bound to xinfang.events with key case.assigned) before `xinfang db upgrade` and
    `xinfang run` start; rate = (count − 1) / (last − first) over the times the case.assigned
    events reach the subscriber (its receipt time, time.time(), so the outbox relay is in).
    Baseline: the same number of messages wait in a dramatiq queue before a bare actor starts
    (`dramatiq bench.performance.bare_worker:broker --processes 1 --threads 4`, RabbitmqBroker
    through pika) that inserts one row per message (one INSERT and commit on a pooled
    SQLAlchemy Core connection); rate = (N − 1) / (last − first) over the rows'
    clock_timestamp() column.

latency — p99 at a fixed 200 cases/s for 20 s (--quick 5 s), goal ratio ≤ 2.
    xinfang: a running `xinfang run`, warmed up with 20 cases, then a pika publisher paced at
    200/s notes each case's send time (time.time() just before basic_publish); latency =
    subscriber receipt of its case.assigned − send time. Baseline: the bare worker, warmed up
    alike, messages at 200/s carrying their send time; latency = the row's clock_timestamp()
    − send time. Ratio = xinfang p99 / bare p99 (nearest rank).

publish — cases per second into xinfang.intake, goal ratio ≥ 0.5.
    xinfang: `xinfang publish FILE.jsonl` (20,000 lines; --quick 2,000) as a subprocess,
    timed from start to exit, start-up included (the start-up alone is printed). Baseline: raw
    pika with pipelined publisher confirms, 1,000 in flight (SelectConnection), the same
    bodies, exchange, routing keys and properties, from the first publish to the last confirm.
    Both check that every message is in the queue.

sweep — finding the clocks past a ladder step, goal ratio ≤ 2.
    1,000,000 open clocks (--quick 50,000), 1 % with next_step_at in the past, filled with
    INSERT … SELECT generate_series into a fresh, upgraded database, then ANALYZE.
    xinfang: the scheduler's job workers.scheduler.enqueue_escalations with an enqueue that
    only collects, run until every due clock was found (it takes its batch per run; between
    runs the found clocks are moved a step on, untimed, as the escalate actor would); the sum
    of the runs. Baseline: one `UPDATE clocks SET updated_at = now() WHERE next_step_at <= :now
    RETURNING case_id, name` on the same table in a transaction rolled back (before xinfang).

growth — the cost per new case as stored cases grow 10×, goal ratio ≤ 1.1 each.
    10,000, 100,000 and 1,000,000 stored cases (--quick 1,000, 10,000, 100,000), each size in
    a fresh database filled in bulk with SQL (cases, events, clocks, case_parties; a fixed
    number a day so 10× the cases is 10× the days; most closed, the last 30 days open; see
    bench/performance/history.py). The same 2,000 new cases (--quick 500) are registered and
    routed in this process the way `xinfang run` does (batches through
    IntakeService.receive_many, their new cases through RoutingService.route_many), after two
    warm-up batches, in five rounds; the cost per case is the median round's. Rows: cost at
    100k / cost at 10k and at 1M / at 100k (the bigger size is the xinfang column).

rss — the resident set of `xinfang run` under a continuous load, goal ratio ≤ 1.1.
    20,000 cases (--quick 3,000) wait in xinfang.intake before it starts; VmRSS of its process
    is read when 10 % are assigned (the baseline column) and when all are (the xinfang
    column). Flat means ≤ 1.1.

embedded — the default deployment, goal ratio ≥ 1.0 (reported whatever it is).
    xinfang: in one child process, SQLite file and the in-process broker (XINFANG_BROKER_URL
    unset): every role of `xinfang run` (RunningRoles) started, N cases (3,000; --quick 300)
    published through app.publisher(), timed until N case.assigned events are in a
    subscriber queue on the memory transport. Baseline: in one child process, the bare actor
    on dramatiq's StubBroker with a Worker of 4 threads, one row per message into a SQLite
    file (WAL, as xinfang's engine); timed until N rows are committed. Rate = N / time.

Cases come from the demo generator (dispatcher/demo/sample.py, as tests/support.py
`valid_cases`): valid contract-v1, unique external_ids per run, every petitioner a different
person, re-dated to the hours before now (bench/performance/cases.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from bench.performance import (
    embedded,
    growth,
    latency,
    machine,
    publish,
    rss,
    sweep,
    throughput,
)
from bench.performance.processes import BenchError
from bench.performance.sizes import FULL, QUICK, Sizes
from bench.performance.table import Row, failed, render

MEASUREMENTS: tuple[ModuleType, ...] = (
    throughput,
    latency,
    publish,
    sweep,
    growth,
    rss,
    embedded,
)
NAMES = tuple(module.NAME for module in MEASUREMENTS)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.performance",
        description="xinfang against bare baselines: one table of ratios.",
    )
    parser.add_argument("--quick", action="store_true", help="about a tenth of the full sizes")
    parser.add_argument("--only", default="", help=f"comma-separated, of: {', '.join(NAMES)}")
    parser.add_argument("--logs", type=Path, help="keep the subprocesses' logs in this folder")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    args.chosen = chosen or list(NAMES)
    return args


def run_one(module: ModuleType, sizes: Sizes, logs: Path) -> list[Row]:
    measure: Callable[[Sizes, Path], list[Row]] = module.measure
    print(f"{module.NAME} …", flush=True)
    try:
        return measure(sizes, logs)
    except BenchError as error:
        print(f"  {module.NAME} failed: {error}", flush=True)
        return [failed(module.NAME, module.GOAL)]
    except Exception:  # a product bug or an outage: told, and the next row goes on
        print(f"  {module.NAME} failed:\n{traceback.format_exc()}", flush=True)
        return [failed(module.NAME, module.GOAL)]


def describe_machine() -> str:
    try:
        return machine.describe()
    except Exception as error:  # the table still prints
        return f"machine: unknown ({type(error).__name__}: {error})"


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    sizes = QUICK if args.quick else FULL
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="xinfang-perf-") as scratch:
        logs = args.logs or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        for module in MEASUREMENTS:
            if module.NAME in args.chosen:
                rows += run_one(module, sizes, logs)
    print()
    print(describe_machine())
    print(render(rows))
    return 1 if any(row.ratio is None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
