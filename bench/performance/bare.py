"""The bare baseline: a dramatiq actor that inserts one row per message (one INSERT and one
commit, on a pooled SQLAlchemy Core connection) into a table whose `at` column defaults to the
database's clock at the insert. Nothing else: no validation, no rules, no outbox."""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq import Actor, Broker
from sqlalchemy import Engine, text

QUEUE = "bench.bare"
ACTOR = "bench.bare_row"
THREADS = 4  # as xinfang's worker_threads default

POSTGRES_TABLE = """
create table if not exists bare_rows (
    id bigserial primary key,
    external_id text not null,
    body text not null,
    sent_at double precision not null,  -- epoch seconds, the sender's wall clock
    at timestamptz not null default clock_timestamp()
)"""
SQLITE_TABLE = """
create table if not exists bare_rows (
    id integer primary key,
    external_id text not null,
    body text not null,
    sent_at real not null,
    at real not null default ((julianday('now') - 2440587.5) * 86400.0)
)"""
INSERT = text(
    "insert into bare_rows (external_id, body, sent_at) values (:external_id, :body, :sent_at)"
)


def create_table(engine: Engine) -> None:
    ddl = SQLITE_TABLE if engine.dialect.name == "sqlite" else POSTGRES_TABLE
    with engine.begin() as conn:
        conn.execute(text(ddl))


def declare(
    broker: Broker, engine: Callable[[], Engine], done: Callable[[], None] = lambda: None
) -> Actor:
    """The actor on `broker`; `engine` gives the (lazily made) engine, `done` is told after
    each commit."""

    def bare_row(external_id: str, body: str, sent_at: float) -> None:
        with engine().begin() as conn:
            conn.execute(INSERT, {"external_id": external_id, "body": body, "sent_at": sent_at})
        done()

    return dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=QUEUE, max_retries=3)(
        bare_row
    )
