"""`xinfang case list` as a petition office uses it, through the command line (main(), in this
process), on a SQLite file holding the cases of tests/case_list_cases.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from case_list_cases import IN_ORDER, register_cases
from in_process import Ran, Xinfang

from dispatcher.adapters.db.listing import next_prefix
from dispatcher.bootstrap.app import App
from dispatcher.domain.clock import FixedClock

MORE = "more match: narrow the filters or raise --limit"


def _listed(ran: Ran, ids: dict[str, str]) -> list[str]:
    """The cases shown, by their names in `ids`, in the order shown."""
    names = {case_id: name for name, case_id in ids.items()}
    return [names[line.split()[0]] for line in ran.lines[:-1]]


def _objects(ran: Ran) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ran.lines]


Run = Callable[..., Ran]


@pytest.fixture
def case_list(xinfang_cli: Xinfang) -> Run:
    """Runs `xinfang case list ARGS` on a database URL, as the `xinfang` command does."""
    return lambda database_url, *args: xinfang_cli("case", "list", *args, database_url=database_url)


@pytest.fixture
def ids(app: App, clock: FixedClock) -> dict[str, str]:
    return register_cases(app, clock)


def test_every_case_the_earliest_running_clock_first_then_by_registration(
    case_list: Run,
    database_url: str,
    ids: dict[str, str],
    assert_no_identity: Callable[[Any], None],
) -> None:
    ran = case_list(database_url, "--now", "2026-06-05")

    assert ran.code == 0, ran.err
    assert _listed(ran, ids) == IN_ORDER  # A before C: the same due, A registered first
    assert ran.lines[-1] == "5 cases shown"
    line = dict(zip(IN_ORDER, ran.lines, strict=False))
    # A's objection window (until 06-02) is no deadline: its acceptance clock is what is shown.
    assert line["A"].split() == [
        ids["A"],
        "cq-12345/A",
        "assigned",
        "500103",
        "500103:housing",
        "acceptance",
        "2026-06-10",
        "23:59",
        "小区加装电梯纠纷",
    ]
    assert line["D"].split()[2:] == [
        "registered",
        "500103",
        "—",
        "forwarding",
        "2026-06-04",
        "23:59",
        "overdue",  # as of --now
        "小区加装电梯纠纷",
    ]
    assert "handling   2026-07-27 23:59" in line["B"]
    assert line["E"].split()[2:] == [
        "not_accepted",
        "500103",
        "500103:housing",
        "—",
        "小区加装电梯纠纷",
    ]
    assert_no_identity(ran.out)


def test_a_long_title_is_cut(
    case_list: Run, database_url: str, app: App, clock: FixedClock, make_case: Any, encode: Any
) -> None:
    app.intake.receive(encode(make_case(title="很" * 60)), "application/json", "case.phone")

    (line, _shown) = case_list(database_url).lines

    assert line.endswith(" " + "很" * 23 + "…")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stage", "assigned"], ["A", "C"]),
        (["--stage", "assigned", "--stage", "not_accepted"], ["A", "C", "E"]),
        (["--stage", "accepted", "--stage", "registered", "--stage", "accepted"], ["D", "B"]),
        (["--stage", "closed"], []),
    ],
    ids=["one", "two", "repeated", "none-there"],
)
def test_stage(
    case_list: Run, database_url: str, ids: dict[str, str], args: list[str], expected: list[str]
) -> None:
    ran = case_list(database_url, *args)
    assert ran.code == 0, ran.err
    assert _listed(ran, ids) == expected


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("500103:housing", ["A", "B", "E"]), ("500104:housing", ["C"]), ("500103:labour", [])],
)
def test_unit(
    case_list: Run, database_url: str, ids: dict[str, str], unit: str, expected: list[str]
) -> None:
    ran = case_list(database_url, "--unit", unit)
    assert _listed(ran, ids) == expected
    assert ran.lines[-1] == f"{len(expected)} case{'' if len(expected) == 1 else 's'} shown"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("500103", ["D", "A", "B", "E"]),  # the district and its town 500103001, not 500104
        ("500103001", ["B"]),
        ("5001", IN_ORDER),
        ("5001039", []),  # up to 500104 (excluded), so not C
        ("500104", ["C"]),
    ],
)
def test_region_prefix(
    case_list: Run, database_url: str, ids: dict[str, str], prefix: str, expected: list[str]
) -> None:
    assert _listed(case_list(database_url, "--region", prefix), ids) == expected


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("2026-06-05", ["D"]),  # a date: the start of that day in Chongqing
        ("2026-06-10T23:59:59+08:00", ["D"]),  # A and C are due at that very second
        ("2026-06-10T16:00:00Z", ["D", "A", "C"]),
        ("2026-12-31", ["D", "A", "C", "B"]),  # never E: it has no running clock
    ],
)
def test_due_before(
    case_list: Run, database_url: str, ids: dict[str, str], before: str, expected: list[str]
) -> None:
    assert _listed(case_list(database_url, "--due-before", before), ids) == expected


def test_overdue_as_of_now(case_list: Run, database_url: str, ids: dict[str, str]) -> None:
    def overdue(*args: str) -> list[str]:
        return _listed(case_list(database_url, "--overdue", *args), ids)

    assert overdue("--now", "2026-06-01") == []
    assert overdue("--now", "2026-06-11") == ["D", "A", "C"]
    assert overdue("--now", "2026-06-11", "--due-before", "2026-06-05") == ["D"]
    assert overdue("--now", "2026-06-11", "--unit", "500104:housing") == ["C"]
    assert overdue() == ["D", "A", "C", "B"]  # as of today, long after July 2026


@pytest.mark.parametrize(
    ("limit", "shown", "more"),
    [("2", 2, True), ("4", 4, True), ("5", 5, False), ("50", 5, False)],
)
def test_limit_says_when_it_cut_the_list(
    case_list: Run, database_url: str, ids: dict[str, str], limit: str, shown: int, more: bool
) -> None:
    ran = case_list(database_url, "--limit", limit)

    assert _listed(ran, ids) == IN_ORDER[:shown]
    assert ran.lines[-1] == f"{shown} cases shown" + (f", {MORE}" if more else "")


def test_json_one_object_per_case(
    case_list: Run,
    database_url: str,
    ids: dict[str, str],
    assert_no_identity: Callable[[Any], None],
) -> None:
    ran = case_list(database_url, "--json", "--now", "2026-06-05")

    assert ran.code == 0 and ran.err == ""
    rows = {row["external_id"]: row for row in _objects(ran)}
    assert list(rows) == IN_ORDER
    assert rows["A"] == {
        "case_id": ids["A"],
        "source": "cq-12345",
        "external_id": "A",
        "stage": "assigned",
        "region": "500103",
        "org_unit_id": "500103:housing",
        "org_unit_name": rows["A"]["org_unit_name"],
        "title": "小区加装电梯纠纷",
        "registered_at": "2026-05-26T10:01:00+08:00",
        "clock": "acceptance",
        "due_at": "2026-06-10T23:59:59+08:00",
        "overdue": False,
    }
    assert rows["A"]["org_unit_name"]
    assert (rows["D"]["clock"], rows["D"]["overdue"]) == ("forwarding", True)
    assert (rows["E"]["clock"], rows["E"]["due_at"], rows["E"]["overdue"]) == (None, None, False)
    assert_no_identity(ran.out)


def test_json_cut_by_the_limit_says_so_on_stderr(
    case_list: Run, database_url: str, ids: dict[str, str]
) -> None:
    ran = case_list(database_url, "--json", "--limit", "3")

    assert [row["external_id"] for row in _objects(ran)] == IN_ORDER[:3]
    assert ran.err == f"3 cases shown, {MORE}\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--stage", "bogus"],
        ["--limit", "0"],
        ["--limit", "many"],
        ["--region", "渝中"],
        ["--region", "5001x"],
        ["--region", "5001031234567"],
        ["--unit", " "],
        ["--due-before", "tomorrow"],
        ["--now", "later", "--overdue"],
        ["--frobnicate"],
    ],
)
def test_a_bad_value_is_a_usage_error(case_list: Run, tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "none.db"

    ran = case_list(f"sqlite:///{missing}", *args)

    assert ran.code == 2, ran
    lines = ran.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xinfang: error: "), lines
    assert ran.out == ""
    assert not missing.exists()  # refused before the database was looked for


def test_a_missing_database_is_refused(case_list: Run, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"

    ran = case_list(f"sqlite:///{missing}")

    assert ran.code == 1
    assert ran.err.splitlines() == [
        f"xinfang: error: there is no database at {missing}: run `xinfang db upgrade` to create "
        "it (or set XINFANG_DATABASE_URL)"
    ]
    assert not missing.exists()


@pytest.mark.parametrize(
    ("prefix", "following"),
    [("500103", "500104"), ("5001039", "500104"), ("500199", "5002"), ("5", "6"), ("99", None)],
)
def test_a_region_prefix_is_the_range_up_to_the_next_prefix(
    prefix: str, following: str | None
) -> None:
    assert next_prefix(prefix) == following
