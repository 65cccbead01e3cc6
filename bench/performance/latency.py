"""Row `latency`: the 99th percentile of a case's latency at a fixed arrival rate.

xinfang: `xinfang run` on a fresh stack, warmed up with a few cases; then a pika publisher
(confirms on) sends cases at the fixed rate, noting each one's wall-clock send time
(time.time(), just before basic_publish) by external_id; latency = the time the case.assigned
event reached the subscriber − the send time.
Baseline: the bare worker, warmed up the same way; messages at the same rate carry their send
time; latency = the row's clock_timestamp() − the send time (same machine, same wall clock).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pika

from bench.performance import bare_run, paced, xinfang_run
from bench.performance.cases import Case, body, fresh_cases, key, messages, routing_key
from bench.performance.figures import percentile, seconds
from bench.performance.pipelined import INTAKE_EXCHANGE, PROPERTIES, publish
from bench.performance.processes import BenchError
from bench.performance.sizes import Sizes
from bench.performance.table import Row, at_most

NAME = "latency"
GOAL = at_most(2.0)
WARM_UP = 20
SHARE = 0.99


def xinfang_latencies(cases: list[Case], per_second: float, logs: Path) -> list[float]:
    warm, timed = cases[:WARM_UP], cases[WARM_UP:]
    with xinfang_run.running("latency", logs) as run:
        publish(run.stack.amqp_url, messages(warm))
        if run.wait(len(warm)) < len(warm):
            raise BenchError("xinfang did not assign the warm-up cases")
        sent: dict[str, float] = {}
        connection = pika.BlockingConnection(pika.URLParameters(run.stack.amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()

            def send(index: int) -> None:
                case = timed[index]
                sent[key(case)] = time.time()
                channel.basic_publish(INTAKE_EXCHANGE, routing_key(case), body(case), PROPERTIES)

            achieved = paced.pace(len(timed), per_second, send)
        finally:
            connection.close()
        arrived = run.wait(len(cases)) - len(warm)
    received = run.subscriber.received
    print(
        f"  latency: xinfang sent {len(timed)} at {achieved:.0f}/s, {arrived} assigned",
        flush=True,
    )
    return [received[name] - at for name, at in sent.items() if name in received]


def bare_latencies(cases: list[Case], per_second: float, logs: Path) -> list[float]:
    warm, timed = cases[:WARM_UP], cases[WARM_UP:]
    with bare_run.running("latency_bare", logs) as run, run.worker() as worker:
        for case in warm:
            run.send(key(case), json.dumps(case, ensure_ascii=False), time.time())
        if run.wait(len(warm), worker) < len(warm):
            raise BenchError("the bare worker did not take the warm-up messages")

        def send(index: int) -> None:
            case = timed[index]
            run.send(key(case), json.dumps(case, ensure_ascii=False), time.time())

        achieved = paced.pace(len(timed), per_second, send)
        arrived = run.wait(len(cases), worker) - len(warm)
        print(
            f"  latency: bare actor sent {len(timed)} at {achieved:.0f}/s, {arrived} rows",
            flush=True,
        )
        return run.latencies({key(case) for case in timed})


def measure(sizes: Sizes, logs: Path) -> list[Row]:
    count = round(sizes.latency_rate * sizes.latency_seconds)
    cases = fresh_cases(WARM_UP + count)
    ours = percentile(xinfang_latencies(cases, sizes.latency_rate, logs), SHARE)
    bare = percentile(bare_latencies(cases, sizes.latency_rate, logs), SHARE)
    return [
        Row(
            f"p99 latency at {sizes.latency_rate:g}/s for {sizes.latency_seconds:g} s",
            seconds(ours),
            seconds(bare),
            ours / bare,
            GOAL,
        )
    ]
