"""One side of the embedded row, alone in its own process (the in-process broker's state is
per process): `python -m bench.performance.embedded_child xinfang|bare COUNT DATABASE_URL`.
Prints one JSON line: {"count": done, "seconds": from the first send to the last done}."""

from __future__ import annotations

import json
import sys
import threading
import time

from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from kombu import Connection, Queue
from kombu.transport import memory
from sqlalchemy import create_engine, event

from bench.performance import bare, waiting
from bench.performance.cases import fresh_cases, key
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.connection import EMBEDDED_URL
from dispatcher.bootstrap.app import build
from dispatcher.bootstrap.roles import ROLES, RunningRoles
from dispatcher.bootstrap.settings import Settings
from dispatcher.cli.common import configure_logging
from workers.broker import middleware

EVENTS_QUEUE = "bench.assigned"


def xinfang(count: int, database_url: str) -> tuple[int, float]:
    """`xinfang run`'s roles in this process on SQLite and the in-process broker; the cases
    published through the app's publisher; done = case.assigned events in a subscriber's
    queue on the memory transport, bound before start-up."""
    settings = Settings.from_env({"XINFANG_DATABASE_URL": database_url})
    configure_logging(settings)  # as `xinfang run` does
    app = build(settings)
    with Connection(EMBEDDED_URL) as connection:
        Queue(EVENTS_QUEUE, topology.EVENTS_EXCHANGE, routing_key="case.assigned", durable=True)(
            connection.default_channel
        ).declare()
    running = RunningRoles(app).start(set(ROLES))
    try:
        if not running.wait_ready(60):
            raise RuntimeError(f"roles not ready: {running.status()}")
        publisher = app.publisher()

        def assigned() -> int:
            queue = memory.Channel.queues.get(EVENTS_QUEUE)
            return 0 if queue is None else queue.qsize()

        cases = fresh_cases(count)
        started = time.perf_counter()
        for case in cases:
            publisher.publish(case)
        done = waiting.until(assigned, count, lambda: _alive(running))
        return done, time.perf_counter() - started
    finally:
        running.stop()
        app.close()


def _alive(running: RunningRoles) -> None:
    failure = running.failure()
    if failure is not None:
        raise RuntimeError(failure)


def bare_side(count: int, database_url: str) -> tuple[int, float]:
    """The bare actor on dramatiq's StubBroker, a Worker of 4 threads in this process, one row
    per message into the SQLite file (WAL, as xinfang's engine); done = rows committed."""
    engine = create_engine(database_url, connect_args={"timeout": 30}, pool_size=bare.THREADS)
    event.listen(engine, "connect", _wal)
    bare.create_table(engine)
    lock, committed = threading.Lock(), [0]

    def one_more() -> None:
        with lock:
            committed[0] += 1

    broker = StubBroker(middleware=middleware())
    broker.emit_after("process_boot")
    actor = bare.declare(broker, lambda: engine, one_more)
    worker = Worker(broker, worker_threads=bare.THREADS, worker_timeout=250)
    worker.start()
    try:
        cases = fresh_cases(count)
        started = time.perf_counter()
        for case in cases:
            actor.send(key(case), json.dumps(case, ensure_ascii=False), time.time())
        done = waiting.until(lambda: committed[0], count)
        return done, time.perf_counter() - started
    finally:
        worker.stop()
        broker.close()
        engine.dispose()


def _wal(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def main() -> None:
    side, count, database_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    done, seconds = (xinfang if side == "xinfang" else bare_side)(count, database_url)
    print(json.dumps({"count": done, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
