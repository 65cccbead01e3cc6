"""Fixtures for the real services: a fresh PostgreSQL database and a fresh RabbitMQ vhost.

On a laptop without the services, tests that need them skip with a loud reason; in CI (the CI
variable is set) they fail instead, so an integration test can never be silently skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from ports import Ports

PG_ADMIN_URL = os.environ.get(
    "XINFANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AMQP_HOST = os.environ.get("XINFANG_TEST_AMQP_HOST", "127.0.0.1:5672")


def _unavailable(service: str, why: object) -> None:
    message = f"{service} is not reachable ({why})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI requires it", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[object]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as error:
        _unavailable("PostgreSQL", error)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_engine) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"xinfang_test_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with pg_admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def migrated_pg_url(pg_url: str) -> str:
    """A new PostgreSQL database at the head schema revision."""
    from support import migrated

    return migrated(pg_url)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_available() -> None:
    import socket

    host, port = AMQP_HOST.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as error:
        _unavailable("RabbitMQ", error)
    if shutil.which("rabbitmqctl") is None:
        _unavailable("rabbitmqctl (to make a vhost per test)", "not on PATH")


@pytest.fixture
def amqp_vhost(rabbitmq_available) -> Iterator[str]:
    """A new RabbitMQ vhost for one test (no queue or message leaks between tests)."""
    vhost = f"xinfang-test-{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def amqp_url(amqp_vhost: str) -> str:
    return f"amqp://guest:guest@{AMQP_HOST}/{amqp_vhost}"


@pytest.fixture(params=["twin", "real"])
def ports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ports]:
    """Both sides of every port (tests/ports.py): the in-memory twins, then the real RabbitMQ
    and PostgreSQL. Here rather than in one package's conftest, since the contract suite and the
    browser tests both run on it."""
    from ports import Ports  # imported on use: most tests never need a broker client

    if request.param == "twin":
        built = Ports("twin", f"sqlite:///{tmp_path / 'xinfang.db'}", None)
    else:
        vhost = request.getfixturevalue("amqp_vhost")
        built = Ports(
            "real", request.getfixturevalue("pg_url"), request.getfixturevalue("amqp_url"), vhost
        )
    try:
        yield built
    finally:
        built.close()
