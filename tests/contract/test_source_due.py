"""A held-back replay of Baltimore's 311 export (public data, ../shared/data): the cases carry
the city's own due date and closing time, and the overdue set at a snapshot is exactly what
the city's DueDate and CloseDate say. On SQLite and on PostgreSQL, by the same test."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support import BALTIMORE, EXAMPLES, data_file

from dispatcher.adapters.db import ladder_store, schema
from dispatcher.adapters.files.importer import Imported, import_rows
from dispatcher.adapters.files.importer_mapping import load_mapping
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.services.intake import Registered

BALTIMORE_TIME = ZoneInfo("America/New_York")
ROWS = 400  # the first rows of the sample, spread over five years
FORMAT = "%m/%d/%Y %I:%M:%S %p"


@pytest.fixture(params=["twin", "real"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    url = (
        f"sqlite:///{tmp_path / 'xinfang.db'}"
        if request.param == "twin"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    folder = EXAMPLES / "baltimore311"
    settings = Settings(
        broker_url=None,
        database_url=url,
        rules_path=folder / "rules.yaml",
        directory_path=folder / "directory.yaml",
        repeat_window_days=0,
        collective_window_days=0,
    )
    built = build(settings, clock=FixedClock(datetime(2026, 12, 1, tzinfo=BALTIMORE_TIME)))
    yield built
    built.close()


def _when(text: str) -> datetime | None:
    return datetime.strptime(text, FORMAT).replace(tzinfo=BALTIMORE_TIME) if text else None


def test_the_overdue_set_at_a_snapshot_is_the_citys_own(app: App) -> None:
    path = data_file(BALTIMORE)
    with path.open(encoding="utf-8-sig", newline="") as lines:
        rows = [row for _, row in zip(range(ROWS), csv.DictReader(lines), strict=False)]
    mapping = load_mapping(EXAMPLES / "baltimore311" / "mapping.yaml")
    with path.open(encoding="utf-8-sig", newline="") as lines:
        cases = [
            o.case
            for _, o in zip(range(ROWS), import_rows(lines, mapping), strict=False)
            if isinstance(o, Imported)
        ]
    assert len(cases) == ROWS
    for case in cases:
        outcome = app.intake.receive(json.dumps(case).encode(), "application/json", "case.phone")
        assert isinstance(outcome, Registered)
        app.routing.route(outcome.case_id)

    created = sorted(_when(r["CreatedDate"]) for r in rows)  # type: ignore[type-var]
    seen = 0
    for snapshot in created[::20]:  # 20 snapshots over five years
        expected = {
            r["ServiceRequestNum"]
            for r in rows
            if (due := _when(r["DueDate"])) is not None
            and (made := _when(r["CreatedDate"])) is not None
            and made <= snapshot
            and due < snapshot
            and ((closed := _when(r["CloseDate"])) is None or closed > snapshot)
        }
        with app.engine.connect() as conn:
            listed = ladder_store.overdue(conn, snapshot, None, None, 100_000)
        assert {row["external_id"] for row in listed} == expected, snapshot
        assert {row["clock"] for row in listed} <= {"source_due"}
        seen += len(expected)
    assert seen >= 30  # the snapshots catch overdue requests (41 in these rows)
