"""The app on a fresh PostgreSQL database, with the in-process broker and a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dispatcher.adapters.db import schema
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock


@pytest.fixture
def app(pg_url: str) -> Iterator[App]:
    engine = make_engine(pg_url)
    schema.upgrade(engine)
    engine.dispose()
    built = build(
        Settings(broker_url=None, database_url=pg_url, rules_path=None, directory_path=None),
        clock=FixedClock(datetime(2026, 5, 26, 2, 0, tzinfo=UTC)),
    )
    yield built
    built.close()
