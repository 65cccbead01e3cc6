"""Row `throughput`: cases per second end to end, from a pre-filled intake queue.

xinfang: N messages wait in xinfang.intake before `xinfang run` starts; the rate is
(count − 1) / (last − first) over the moments the case.assigned events reach a subscriber
bound before start-up (the subscriber's receipt time, which includes the outbox relay).
The same again with the roles as separate processes (`xinfang intake`, `xinfang worker`,
`xinfang relay`), the layout that scales past one core.
Baseline: N messages wait in a dramatiq queue before a bare worker (1 process, 4 threads)
starts; the rate is (N − 1) / (last − first) over the rows' clock_timestamp() values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bench.performance import bare_run, xinfang_run
from bench.performance.cases import fresh_cases, key, messages
from bench.performance.figures import per_second, rate
from bench.performance.processes import BenchError
from bench.performance.sizes import Sizes
from bench.performance.table import Row, at_least

NAME = "throughput"
GOAL = at_least(1.0)


def xinfang_rate(
    count: int, logs: Path, commands: Sequence[Sequence[str]] = xinfang_run.ONE_PROCESS
) -> float:
    cases = fresh_cases(count)
    label = "throughput" if commands == xinfang_run.ONE_PROCESS else "throughput_split"
    with xinfang_run.running(label, logs, prefill=messages(cases), commands=commands) as run:
        arrived = run.wait(count)
    print(f"  {label}: xinfang {arrived}/{count} cases assigned", flush=True)
    if arrived < 2:
        raise BenchError(f"only {arrived} of {count} cases were assigned")
    return rate(list(run.subscriber.received.values()))


def bare_rate(count: int, logs: Path) -> float:
    cases = fresh_cases(count)
    with bare_run.running("throughput_bare", logs) as run:
        for case in cases:
            run.send(key(case), json.dumps(case, ensure_ascii=False), 0.0)
        with run.worker() as worker:
            arrived = run.wait(count, worker)
        print(f"  throughput: bare actor {arrived}/{count} rows", flush=True)
        return run.rate()


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    ours = xinfang_rate(sizes.throughput_cases, logs)
    split = xinfang_rate(sizes.throughput_cases, logs, xinfang_run.SPLIT_ROLES)
    bare = bare_rate(sizes.throughput_cases, logs)
    return [
        Row(
            f"e2e throughput ({sizes.throughput_cases} pre-filled)",
            per_second(ours, "cases"),
            per_second(bare, "rows"),
            ours / bare,
            GOAL,
        ),
        Row(
            "  the same, intake | worker | relay processes",
            per_second(split, "cases"),
            per_second(bare, "rows"),
            split / bare,
            GOAL,
        ),
    ]
