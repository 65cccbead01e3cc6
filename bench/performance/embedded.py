"""Row `embedded`: the default deployment, one process on a SQLite file with the in-process
broker (XINFANG_BROKER_URL unset), against a bare dramatiq actor on the StubBroker in one
process inserting a row per message into a SQLite file. Each side runs in its own child
process (bench/performance/embedded_child.py) on its own new file; the figure is N / the time
from the first message sent to the last case assigned (row committed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.performance.figures import per_second
from bench.performance.processes import BenchError, run_logged
from bench.performance.sizes import Sizes
from bench.performance.stack import Stack, sqlite_stack
from bench.performance.table import Row, at_least

NAME = "embedded"
GOAL = at_least(1.0)


def side(name: str, stack: Stack, count: int) -> float:
    command = [
        sys.executable,
        "-m",
        "bench.performance.embedded_child",
        name,
        str(count),
        stack.database_url,
    ]
    output = run_logged(f"embedded-{name}", command, stack.env(), stack.logs, timeout=3600)
    lines = [line for line in output.splitlines() if line.startswith('{"count"')]
    if not lines:
        raise BenchError(f"embedded {name} printed no result")
    result = json.loads(lines[-1])
    print(f"  embedded: {name} {result['count']}/{count} in {result['seconds']:.2f} s", flush=True)
    if result["count"] < count:
        raise BenchError(f"embedded {name}: {result['count']} of {count} done")
    return float(result["count"]) / float(result["seconds"])


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    count = sizes.embedded_cases
    ours_stack = sqlite_stack("embedded", logs)
    ours_stack.upgrade()
    ours = side("xinfang", ours_stack, count)
    bare = side("bare", sqlite_stack("embedded_bare", logs), count)
    return [
        Row(
            f"embedded SQLite, in-process broker ({count})",
            per_second(ours, "cases"),
            per_second(bare, "rows"),
            ours / bare,
            GOAL,
        )
    ]
