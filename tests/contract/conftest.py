"""The contract suite: every test here runs twice, on the in-memory twins and on the real
RabbitMQ and PostgreSQL, through the same `ports` fixture. A behaviour that holds only on the
twin fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ports import Ports
from support import migrated


@pytest.fixture(params=["twin", "real"])
def ports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ports]:
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


@pytest.fixture(params=["twin", "real"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the head schema revision: a SQLite file (the twin), then a new
    PostgreSQL database (the real one), by the same test."""
    if request.param == "twin":
        return migrated(f"sqlite:///{tmp_path / 'xinfang.db'}")
    return str(request.getfixturevalue("migrated_pg_url"))
