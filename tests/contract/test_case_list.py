"""The query of `xinfang case list` finds the same cases in the same order on SQLite and on
PostgreSQL, by the same tests; and migration 0007 fills each case's earliest running deadline
as the code writes it. The cases: tests/case_list_cases.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from case_list_cases import IN_ORDER, act, register_cases
from sqlalchemy import select

from dispatcher.adapters.db import schema
from dispatcher.adapters.db.listing import CaseFilter, find_cases
from dispatcher.adapters.db.tables import cases
from dispatcher.bootstrap.app import App, build
from dispatcher.bootstrap.settings import Settings
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.decisions import Action

START = datetime(2026, 5, 26, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def app(migrated_url: str) -> Iterator[App]:
    settings = Settings(
        broker_url=None,
        database_url=migrated_url,
        rules_path=None,
        directory_path=None,
        repeat_window_days=0,
        collective_window_days=0,
    )
    built = build(settings, clock=FixedClock(START))
    yield built
    built.close()


@pytest.fixture
def ids(app: App) -> dict[str, str]:
    assert isinstance(app.clock, FixedClock)
    return register_cases(app, app.clock)


def listed(app: App, where: CaseFilter, limit: int = 50) -> tuple[list[str], bool]:
    with app.engine.connect() as conn:
        found = find_cases(conn, where, limit)
    return [row["external_id"] for row in found.rows], found.more


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (CaseFilter(), IN_ORDER),
        (CaseFilter(stages=["assigned"]), ["A", "C"]),
        (CaseFilter(stages=["not_accepted", "assigned", "registered"]), ["D", "A", "C", "E"]),
        (CaseFilter(unit="500103:housing"), ["A", "B", "E"]),
        (CaseFilter(region="500103"), ["D", "A", "B", "E"]),
        (CaseFilter(region="5001039"), []),
        (CaseFilter(due_before=at("2026-06-11T00:00:00")), ["D", "A", "C"]),
        (CaseFilter(due_before=at("2026-06-10T23:59:59")), ["D"]),
        (
            CaseFilter(
                stages=["assigned", "accepted"],
                unit="500103:housing",
                region="500103",
                due_before=at("2026-08-01T00:00:00"),
            ),
            ["A", "B"],
        ),
    ],
    ids=[
        "all",
        "stage",
        "stages",
        "unit",
        "region",
        "region-carry",
        "due-before",
        "due-at-that-second",
        "every-filter",
    ],
)
def test_the_same_cases_in_the_same_order(
    app: App, ids: dict[str, str], where: CaseFilter, expected: list[str]
) -> None:
    assert listed(app, where) == (expected, False)


@pytest.mark.parametrize("limit", range(1, 6))
def test_a_limit_takes_the_first_and_says_whether_more_match(
    app: App, ids: dict[str, str], limit: int
) -> None:
    assert listed(app, CaseFilter(), limit) == (IN_ORDER[:limit], limit < len(IN_ORDER))
    stages = CaseFilter(stages=["assigned", "not_accepted"])
    assert listed(app, stages, limit) == (["A", "C", "E"][:limit], limit < 3)


def test_the_earliest_running_clock_follows_the_commands(app: App, ids: dict[str, str]) -> None:
    act(app, ids["A"], Action.ACCEPT)
    act(app, ids["C"], Action.REJECT, reason="不属于信访事项", divert_to="litigation")

    assert listed(app, CaseFilter(stages=["accepted"])) == (["A", "B"], False)
    assert next_due(app)[ids["A"]][0] == "handling"
    assert next_due(app)[ids["C"]] == (None, None)


def test_the_migration_fills_the_earliest_running_clock_as_the_code_writes_it(
    app: App, ids: dict[str, str]
) -> None:
    written = next_due(app)
    assert written[ids["D"]] == ("forwarding", at("2026-06-04T23:59:59"))
    assert written[ids["E"]] == (None, None)

    schema.downgrade(app.engine, "0006")
    schema.upgrade(app.engine)

    assert next_due(app) == written


def next_due(app: App) -> dict[str, tuple[str | None, datetime | None]]:
    query = select(cases.c.case_id, cases.c.next_clock, cases.c.next_due_at)
    with app.engine.connect() as conn:
        return {row.case_id: (row.next_clock, row.next_due_at) for row in conn.execute(query)}
