"""The bare actor as a dramatiq worker process, on RabbitMQ (pika) and PostgreSQL:

    BENCH_BROKER_URL=amqp://… BENCH_DATABASE_URL=postgresql+psycopg://… \\
        dramatiq bench.performance.bare_worker:broker --processes 1 --threads 4
"""

from __future__ import annotations

import os
import threading

from dramatiq.brokers.rabbitmq import RabbitmqBroker
from sqlalchemy import Engine, create_engine

from bench.performance import bare
from workers.broker import middleware

broker = RabbitmqBroker(url=os.environ["BENCH_BROKER_URL"], middleware=middleware())
_lock = threading.Lock()
_engine: list[Engine] = []


def engine() -> Engine:
    """One pool per worker process, made after the fork: a connection per worker thread."""
    with _lock:
        if not _engine:
            _engine.append(
                create_engine(
                    os.environ["BENCH_DATABASE_URL"], pool_size=bare.THREADS, max_overflow=0
                )
            )
        return _engine[0]


bare_row = bare.declare(broker, engine)
