"""The bare actor's side of a row: a fresh vhost and database, a sender in this process and
the worker as `dramatiq bench.performance.bare_worker:broker --processes 1 --threads 4`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dramatiq import Actor
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import Engine, text

from bench.performance import bare, waiting
from bench.performance.figures import rate
from bench.performance.processes import Started, started, tail
from bench.performance.stack import Stack, clean_environment, fresh_stack
from workers.broker import middleware


@dataclass
class BareRun:
    stack: Stack
    engine: Engine
    actor: Actor

    def send(self, external_id: str, body: str, sent_at: float) -> None:
        self.actor.send(external_id, body, sent_at)

    @contextmanager
    def worker(self) -> Iterator[Started]:
        env = clean_environment() | {
            "BENCH_BROKER_URL": self.stack.amqp_url,
            "BENCH_DATABASE_URL": self.stack.database_url,
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "dramatiq",
            "bench.performance.bare_worker:broker",
            "--processes",
            "1",
            "--threads",
            str(bare.THREADS),
        ]
        with started(f"{self.stack.name}-bare-worker", command, env, self.stack.logs) as process:
            yield process

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(text("select count(*) from bare_rows")) or 0)

    def wait(self, count: int, process: Started) -> int:
        done = waiting.until(self.count, count, process.check_alive)
        if done < count:
            print(
                f"  {process.name}: {done} of {count} rows, then no progress for "
                f"{waiting.STALL_S:.0f} s; its log ends:\n{tail(process.log)}",
                flush=True,
            )
        return done

    def rate(self) -> float:
        """Rows per second from the rows' own timestamps."""
        with self.engine.connect() as conn:
            times = conn.scalars(text("select extract(epoch from at)::float8 from bare_rows"))
            return rate(list(times))

    def latencies(self, external_ids: set[str]) -> list[float]:
        """Seconds from each message's send to its row's clock_timestamp()."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("select external_id, extract(epoch from at)::float8 - sent_at from bare_rows")
            )
            return [float(row[1]) for row in rows if row[0] in external_ids]


@contextmanager
def running(label: str, logs: Path) -> Iterator[BareRun]:
    with fresh_stack(label, logs) as stack:
        engine = stack.engine()
        broker = RabbitmqBroker(url=stack.amqp_url, confirm_delivery=True, middleware=middleware())
        try:
            bare.create_table(engine)
            actor = bare.declare(broker, lambda: engine)  # this side only sends
            broker.declare_queue(bare.QUEUE, ensure=True)
            yield BareRun(stack, engine, actor)
        finally:
            broker.close()
            engine.dispose()
