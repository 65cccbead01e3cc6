"""The Alembic migrations build exactly the schema the code describes, on PostgreSQL and on
SQLite, and go down and up again cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dispatcher.adapters.db import schema
from dispatcher.adapters.db.tables import metadata
from dispatcher.bootstrap.app import make_engine


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    schema.upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    schema.upgrade(engine)  # idempotent at head
    engine.dispose()
    return list(differences)


@pytest.mark.integration
def test_migrations_match_the_tables_on_postgresql(pg_url: str) -> None:
    assert _differences(pg_url) == []


def test_migrations_match_the_tables_on_sqlite(tmp_path: Path) -> None:
    assert _differences(f"sqlite:///{tmp_path / 'schema.db'}") == []


@pytest.mark.integration
def test_downgrade_to_base_and_upgrade_again_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    schema.upgrade(engine)
    schema.downgrade(engine, "base")
    assert schema.current_revision(engine) is None
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()
