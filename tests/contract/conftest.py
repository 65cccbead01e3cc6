"""The contract suite: every test here runs twice, on the in-memory twins and on the real
RabbitMQ and PostgreSQL, through the same `ports` fixture (tests/conftest.py). A behaviour that
holds only on the twin fails here."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import migrated


@pytest.fixture(params=["twin", "real"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the head schema revision: a SQLite file (the twin), then a new
    PostgreSQL database (the real one), by the same test."""
    if request.param == "twin":
        return migrated(f"sqlite:///{tmp_path / 'xinfang.db'}")
    return str(request.getfixturevalue("migrated_pg_url"))
