"""Row `publish`: cases per second into xinfang.intake.

xinfang: `xinfang publish FILE.jsonl` as a subprocess (it validates every line against the
contract, then publishes them with at most 1,000 waiting for their confirms), timed from
start to exit, start-up included
(the start-up alone, publishing an empty file, is printed beside it).
Baseline: raw pika with pipelined publisher confirms (1,000 in flight), the same bodies,
exchange, routing keys and properties, timed from the first publish to the last confirm.
Each side on its own vhost with the topology declared; both check that every message is in
the queue afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.performance import pipelined, subscriber
from bench.performance.cases import Message, fresh_cases, messages
from bench.performance.figures import per_second, seconds
from bench.performance.processes import XINFANG, BenchError, run_logged
from bench.performance.sizes import Sizes
from bench.performance.stack import fresh_stack
from bench.performance.table import Row, at_least

NAME = "publish"
GOAL = at_least(0.5)
WINDOW = 1000
QUEUE = "xinfang.intake"


def xinfang_rate(lines: Path, count: int, logs: Path) -> float:
    empty = logs / "empty.jsonl"
    empty.write_text("")
    with fresh_stack("publish", logs) as stack:
        subscriber.declare_topology(stack.amqp_url)
        started = time.perf_counter()
        run_logged("publish-empty", [*XINFANG, "publish", str(empty)], stack.env(), logs)
        startup = time.perf_counter() - started
        started = time.perf_counter()
        run_logged("publish-xinfang", [*XINFANG, "publish", str(lines)], stack.env(), logs)
        elapsed = time.perf_counter() - started
        _check(stack.amqp_url, count, "xinfang publish")
    print(
        f"  publish: xinfang {count} lines in {seconds(elapsed)} (start-up alone "
        f"{seconds(startup)}: {per_second(count / max(elapsed - startup, 1e-9), 'cases')} "
        "without it)",
        flush=True,
    )
    return count / elapsed


def pika_rate(bodies: list[Message], logs: Path) -> float:
    with fresh_stack("publish_pika", logs) as stack:
        subscriber.declare_topology(stack.amqp_url)
        elapsed = pipelined.publish(stack.amqp_url, bodies, window=WINDOW)
        _check(stack.amqp_url, len(bodies), "pipelined pika")
    print(f"  publish: pika {len(bodies)} messages in {seconds(elapsed)}", flush=True)
    return len(bodies) / elapsed


def _check(url: str, count: int, who: str) -> None:
    found = subscriber.depth(url, QUEUE)
    if found != count:
        raise BenchError(f"{who}: {found} of {count} messages reached {QUEUE}")


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    count = sizes.publish_lines
    cases = fresh_cases(count)
    lines = logs / "publish.jsonl"
    bodies = messages(cases)  # the bytes of the file's lines
    lines.write_bytes(b"".join(body + b"\n" for _, body in bodies))
    ours = xinfang_rate(lines, count, logs)
    bare = pika_rate(bodies, logs)
    return [
        Row(
            f"publish ({count} cases)",
            per_second(ours, "cases"),
            per_second(bare, "cases"),
            ours / bare,
            GOAL,
        )
    ]
