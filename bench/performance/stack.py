"""A fresh vhost and a fresh database per run, dropped afterwards (as bench/faults.py does),
and the environment `xinfang` runs with on them."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

from bench.performance.processes import XINFANG, run_logged

AMQP_HOST = "127.0.0.1:5672"
AMQP_ROOT = f"amqp://guest:guest@{AMQP_HOST}/%2F"
PG_HOST = "postgres@127.0.0.1:5432"
PG_ADMIN = f"postgresql+psycopg://{PG_HOST}/test"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


def clean_environment() -> dict[str, str]:
    """This process's environment without any XINFANG_ setting of the caller's."""
    return {key: value for key, value in os.environ.items() if not key.startswith("XINFANG_")}


@dataclass(frozen=True)
class Stack:
    """One run's vhost (None: no broker, the in-process one), database and log folder."""

    name: str
    vhost: str | None
    database_url: str
    logs: Path

    @property
    def amqp_url(self) -> str:
        assert self.vhost is not None, "this stack has no vhost"
        return f"amqp://guest:guest@{AMQP_HOST}/{self.vhost}"

    def env(self) -> dict[str, str]:
        """xinfang's environment: the product's defaults but for where broker and database are."""
        env = clean_environment() | {
            "XINFANG_DATABASE_URL": self.database_url,
            "PYTHONUNBUFFERED": "1",
        }
        if self.vhost is not None:
            env["XINFANG_BROKER_URL"] = self.amqp_url
        return env

    def engine(self) -> Engine:
        return create_engine(self.database_url, pool_pre_ping=True)

    def upgrade(self) -> None:
        """`xinfang db upgrade` on this stack's database."""
        run_logged(f"{self.name}-upgrade", [*XINFANG, "db", "upgrade"], self.env(), self.logs)


@contextmanager
def fresh_stack(label: str, logs: Path, broker: bool = True) -> Iterator[Stack]:
    """A new PostgreSQL database and, with broker, a new vhost, both gone afterwards."""
    name = f"xinfang_perf_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    made_vhost = False
    try:
        if broker:
            rabbitmqctl("add_vhost", name)
            made_vhost = True
            rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield Stack(label, name if broker else None, f"postgresql+psycopg://{PG_HOST}/{name}", logs)
    finally:
        if made_vhost:
            rabbitmqctl("delete_vhost", name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_stack(label: str, logs: Path) -> Stack:
    """A SQLite file in the run's folder and the in-process broker (XINFANG_BROKER_URL unset)."""
    folder = logs / f"{label}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    return Stack(label, None, f"sqlite:///{folder / 'xinfang.db'}", logs)
