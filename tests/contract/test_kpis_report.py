"""The KPI queries on both databases (SQLite, PostgreSQL), by the same tests: the hand-counted
cases of tests/kpi_cases.py, in all, per district, kind and channel, and in a window. The port
here is the database alone: no broker, no roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from kpi_cases import (
    EVERY_CASE,
    IN_WINDOW,
    NOW,
    PER_CHANNEL,
    PER_DISTRICT,
    PER_KIND,
    SINCE,
    UNTIL,
    at,
    insert_cases,
)
from sqlalchemy import Engine

from dispatcher.bootstrap.app import make_engine
from monitoring.kpi import KpiRow, Scope, compute_kpis, kpi_report, total

Counts = dict[str, tuple[int, int]]


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """The hand-counted cases in a fresh database of each kind."""
    built = make_engine(migrated_url)
    insert_cases(built)
    yield built
    built.dispose()


def counted(row: KpiRow) -> Counts:
    return {name: (ratio.good, ratio.total) for name, ratio in row.ratios.items()}


def report(engine: Engine, scope: Scope) -> list[KpiRow]:
    with engine.connect() as conn:
        return kpi_report(conn, scope)


def test_every_case_in_one_row(engine: Engine) -> None:
    (row,) = report(engine, Scope.of(NOW))
    assert row.key is None and row.cases == 10
    assert counted(row) == EVERY_CASE


@pytest.mark.parametrize(
    ("by", "expected"),
    [("district", PER_DISTRICT), ("kind", PER_KIND), ("channel", PER_CHANNEL)],
)
def test_a_row_per_group_and_the_groups_add_up(
    engine: Engine, by: str, expected: dict[str, Counts]
) -> None:
    rows = report(engine, Scope.of(NOW, by=by))
    assert {row.key: counted(row) for row in rows} == expected
    assert [row.key for row in rows] == sorted(expected)
    assert counted(total(rows)) == EVERY_CASE


def test_a_window_counts_its_cases_as_of_its_end(engine: Engine) -> None:
    scope = Scope.of(NOW, since=SINCE, until=UNTIL)
    assert scope.as_of == UNTIL
    (row,) = report(engine, scope)
    assert counted(row) == IN_WINDOW
    assert row.cases == 8


def test_the_window_takes_its_start_and_leaves_out_its_end(engine: Engine) -> None:
    """A is received at 06-01 09:00 and E at 06-20 15:00 exactly."""
    minute = timedelta(minutes=1)

    def cases(since: str, until: str, shift_since: int = 0, shift_until: int = 0) -> int:
        scope = Scope.of(NOW, at(since) + shift_since * minute, at(until) + shift_until * minute)
        (row,) = report(engine, scope)
        return row.cases

    assert cases("06-01 09:00", "06-20 15:00") == 7  # A B C D F G J
    assert cases("06-01 09:00", "06-20 15:00", shift_since=1) == 6  # without A
    assert cases("06-01 09:00", "06-20 15:00", shift_until=1) == 8  # with E


def test_an_open_window_end_and_the_collectors_kpis(engine: Engine) -> None:
    (since_june,) = report(engine, Scope.of(NOW, since=SINCE))
    assert since_june.cases == 9  # all but I, of 05-25
    with engine.connect() as conn:
        kpis = compute_kpis(conn, NOW)
    assert {name: (r.good, r.total) for name, r in kpis.__dict__.items()} == {
        name: EVERY_CASE[name] for name in kpis.__dict__
    }
