"""The demo's report as text and JSON: KPI marks against their targets, tables that state their
totals, the top departments with the rest in one row, overdue duties, rejected lines, and no
heading without rows under it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from dispatcher.demo.report import (
    KPI_TARGETS,
    DemoReport,
    Overdue,
    OverdueClock,
    RejectedLine,
    Table,
    Target,
    mark,
)
from monitoring.kpi import Kpis, Ratio

END = datetime(2026, 9, 19, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Chongqing


@pytest.mark.parametrize(
    ("ratio", "target", "expected"),
    [
        (Ratio(420, 600), Target(Fraction(70, 100), strictly_above=True), "missed"),  # exactly 70
        (Ratio(421, 600), Target(Fraction(70, 100), strictly_above=True), "met"),
        (Ratio(995, 1000), Target(Fraction(995, 1000)), "met"),  # at least: 99.5 % is enough
        (Ratio(994, 1000), Target(Fraction(995, 1000)), "missed"),
        (Ratio(0, 0), Target(Fraction(995, 1000)), "no data"),
        (Ratio(538, 584), None, "no target"),
    ],
)
def test_a_kpi_is_marked_against_its_target(
    ratio: Ratio, target: Target | None, expected: str
) -> None:
    assert mark(ratio, target) == expected


def test_the_targets_are_those_the_kpi_module_states() -> None:
    shown = {name: str(target) if target else None for name, (_, target) in KPI_TARGETS.items()}
    assert shown == {
        "timely_acceptance": "≥ 99.5 %",
        "on_time_completion": "≥ 99.5 %",
        "online_share": "> 70 %",
        "satisfaction": None,  # monitoring/kpi.py states none
    }


def test_a_long_table_shows_the_top_rows_and_sums_the_rest_in_one() -> None:
    counts = {f"unit {i:02d}": 1 for i in range(20)} | {"big": 30, "bigger": 40}
    table = Table("cases per department", counts, "cases assigned", "5 in triage", 3, "other units")
    heading, *rows = table.lines()[1:]
    assert heading == (
        "cases per department (90 cases assigned; 5 in triage; 22 units, the 3 with most shown):"
    )
    assert [row.split()[0] for row in rows[:3]] == ["bigger", "big", "unit"]
    assert rows[-1].split() == ["…", "19", "other", "units", "19", "21.1", "%"]
    assert table.as_dict()["rest"] == {"other units": 19, "count": 19}
    assert sum(table.as_dict()["rows"].values()) + 19 == table.total == 90


def test_an_empty_table_leaves_no_heading() -> None:
    assert Table("in triage, per petition bureau", {}, "cases").lines() == []


def _overdue() -> Overdue:
    def late(case: str, clock: str, days: int, stage: str, kind: str) -> OverdueClock:
        return OverdueClock(case, f"src/{case}", clock, "2026-06-01", days, stage, "某单位", kind)

    return Overdue(
        clocks=[
            late("c1", "forwarding", 100, "triage", "petition_bureau"),
            late("c2", "forwarding", 120, "triage", "petition_bureau"),
            late("c3", "handling", 5, "accepted", "housing"),
        ],
        met_late={"acceptance": 9},
    )


def _report(**fields: object) -> DemoReport:
    defaults: dict[str, object] = {
        "source": "the bundled sample",
        "total_lines": 7,
        "seconds": 1.0,
        "simulated_from": datetime(2026, 5, 1, tzinfo=UTC),
        "simulated_until": END,
        "per_channel": {"online": 3, "phone": 2},
        "per_stage": {"triage": 2, "accepted": 3},
        "per_kind": {"housing": 3},
        "per_department": {"渝中区住房和城乡建设委员会": 3},
        "per_rule": {"category-housing": 3, "(none: triage)": 2},
        "triage": {"南岸区信访办公室": 2},
        "rejected": [RejectedLine(4, "json", "message is not JSON: Expecting value")],
        "linked": {"repeat": 1},
        "kpis": Kpis(Ratio(3, 5), Ratio(2, 3), Ratio(3, 5), Ratio(0, 0)),
        "overdue": _overdue(),
    }
    return DemoReport(**(defaults | fields))  # type: ignore[arg-type]


def test_the_text_marks_every_kpi_and_states_each_total() -> None:
    text = _report().render()
    assert "KPIs (five-in-one platform) as of 2026-09-19 23:59:" in text
    assert "online share             60.0 % (3/5)           target > 70 %: missed" in text
    assert "satisfaction rate        —" in text and text.count("no target") == 1
    assert "messages 7: 5 registered as cases, 1 joined existing cases (repeat 1), 1 rejected" in (
        text
    )
    assert "cases per kind of department (3 cases assigned to a department; 2 in triage):" in text
    assert "cases per channel (5 cases registered):" in text


def test_the_overdue_duties_are_counted_per_clock_stage_and_kind_and_listed() -> None:
    text = _report().render()
    assert "overdue as of 2026-09-19 23:59: 3 duties past their deadline on 3 cases" in text
    assert "forwarding (against timely acceptance)      2" in text
    assert "handling (against on-time completion)       1" in text
    assert "met after their deadline (also against the KPIs): acceptance 9" in text
    listed = [line.split()[0] for line in text.splitlines() if re.match(r"  c\d ", line)]
    assert listed == ["c2", "c1", "c3"]  # the longest overdue first
    overdue = _report().as_dict()["overdue"]
    assert overdue["per_clock"] == {"forwarding": 2, "handling": 1}
    assert overdue["per_kind"] == {"petition_bureau": 2, "housing": 1}
    assert overdue["per_stage"] == {"triage": 2, "accepted": 1}


def test_rejected_lines_are_listed_with_line_code_and_reason() -> None:
    report = _report()
    assert "  line 4     json  message is not JSON: Expecting value" in report.render()
    assert report.as_dict()["rejected_lines"] == [
        {"line": 4, "code": "json", "reason": "message is not JSON: Expecting value"}
    ]


def test_no_heading_is_left_without_rows() -> None:
    text = _report(triage={}, per_stage={"accepted": 5}, rejected=[], linked={}).render()
    lines = text.splitlines()
    for heading, following in zip(lines, [*lines[1:], ""], strict=True):
        if heading.endswith(":"):
            assert following.startswith("  "), heading
    assert "in triage" not in text and "rejected lines" not in text
    assert "cases per kind of department (3 cases assigned to a department; 2 awaiting" in text


def test_a_file_of_rejected_lines_reports_them_and_nothing_simulated() -> None:
    report = _report(
        per_channel={}, per_stage={}, per_kind={}, per_rule={}, triage={}, linked={}, total_lines=1
    )
    text = report.render()
    assert "no case to simulate: every line was rejected" in text
    assert "KPIs (" not in text and "overdue as of" not in text and "cases per" not in text


def test_a_kept_database_ends_the_report_with_the_commands_to_explore_it() -> None:
    report = _report(kept=Path("/tmp/demo dir/kept.db"), example_case="c2")
    *_, said, overdue, show = report.render().splitlines()
    url = "XINFANG_DATABASE_URL='sqlite:////tmp/demo dir/kept.db'"
    assert "the demo simulated up to 2026-09-19 23:59" in said
    assert overdue == f"  {url} xinfang overdue --now 2026-09-19T23:59:59+08:00"
    assert show == f"  {url} xinfang case show c2"
    assert report.as_dict()["explore"] == [overdue.strip(), show.strip()]
