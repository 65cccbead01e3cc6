"""Repeat and collective petitions on PostgreSQL: migration 0003 upgrades and downgrades cleanly
with data in the tables. Links, party keys and no identity outside cases.petitioner are checked
on PostgreSQL and SQLite alike in tests/contract/test_repeats.py."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from dispatcher.adapters.db import schema, store
from dispatcher.bootstrap.app import App, make_engine
from dispatcher.services.intake import Registered

pytestmark = pytest.mark.integration

JSON = "application/json"
NEW_TABLES = {"case_parties", "case_links", "secrets"}


def alembic(engine: Engine, action: str, revision: str) -> None:
    config = Config()
    migrations = resources.files("dispatcher.adapters.db") / "migrations"
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def case(external_id: str, petitioner: dict[str, str] | None, **fields: Any) -> bytes:
    message = (
        {
            "schema": "xinfang.case/v1",
            "source": "cq-12345",
            "external_id": external_id,
            "channel": "phone",
            "received_at": "2026-05-26T09:30:00+08:00",
            "region": "500112",
            "category": "housing",
            "title": "金紫山小区加装电梯纠纷",
            "content": "我们金紫山小区3栋共18层，54户居民中大多数同意加装电梯，但一楼住户以采光受"
            "影响为由阻挠施工，社区协调4次未果，加装电梯工程已停工40天。",
        }
        | ({"petitioner": petitioner} if petitioner else {})
        | fields
    )
    return json.dumps(message, ensure_ascii=False).encode()


ALICE = {"name": "冉秀英", "id_number": "500112197603041524", "phone": "13923017746"}


def test_migration_0003_downgrades_and_upgrades_cleanly_with_data(app: App, pg_url: str) -> None:
    assert isinstance(app.intake.receive(case("HL1", ALICE), JSON, "case.phone"), Registered)
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            first_key = store.read_secret(conn, "identity_key")
        assert first_key and len(bytes.fromhex(first_key)) == 32
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
        assert {"ix_cases_matter", "ix_cases_collective"} <= _indexes(engine, "cases")
        app.engine.dispose()  # no connection of the app holds a lock on the tables

        alembic(engine, "downgrade", "0002")

        assert schema.current_revision(engine) == "0002"
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        assert not {"ix_cases_matter", "ix_cases_collective"} & _indexes(engine, "cases")
        with engine.connect() as conn:
            assert conn.scalar(text("select count(*) from cases")) == 1  # cases survive

        schema.upgrade(engine)

        assert schema.current_revision(engine) == schema.head_revision()
        with engine.connect() as conn:
            kept = text("select count(*) from secrets where name = 'identity_key'")
            assert conn.scalar(kept) == 1
            assert store.read_secret(conn, "identity_key") != first_key  # a new random key
    finally:
        engine.dispose()


def _indexes(engine: Engine, table: str) -> set[str]:
    return {index["name"] for index in inspect(engine).get_indexes(table) if index["name"]}
