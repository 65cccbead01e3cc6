"""Ladders as data and their plans: when each step falls, on the clocks' calendar."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from dispatcher.adapters.files.calendar import china_calendar
from dispatcher.adapters.files.ladders import LADDER_DIR, LadderError, parse_ladders, read_ladders
from dispatcher.domain.clocks import SHANGHAI, end_of_day, local_date
from dispatcher.domain.ladders import Hours, Plan, plan, restrict

CALENDAR = china_calendar(None)
LADDERS = read_ladders(LADDER_DIR / "cn-2022.yaml")
HANDLING = LADDERS.ladders["handling-60d"]


def _plan(due_day: date, **options: object) -> dict[str, datetime]:
    start = end_of_day(due_day - timedelta(days=60))
    steps = plan(HANDLING, start, end_of_day(due_day), CALENDAR, **options)  # type: ignore[arg-type]
    return {p.key: p.at for p in steps}


def test_steps_of_a_district_case_in_order_and_no_higher_than_the_city() -> None:
    steps = _plan(date(2026, 7, 27), height=1)  # a Monday
    assert list(steps) == ["warning", "reminder", "supervision", "listed"]
    # Five working days left: Tue 07-21 .. Mon 07-27; a warning waits for working hours.
    assert steps["warning"] == datetime(2026, 7, 21, 9, 0, tzinfo=SHANGHAI)
    assert steps["reminder"] == datetime(2026, 7, 28, 9, 0, tzinfo=SHANGHAI)
    assert steps["supervision"] == datetime(2026, 7, 31, 0, 0, tzinfo=SHANGHAI)
    assert steps["listed"] == datetime(2026, 8, 11, 0, 0, tzinfo=SHANGHAI)


def test_a_village_case_climbs_one_level_per_repeat_up_to_the_city() -> None:
    steps = plan(
        HANDLING, end_of_day(date(2026, 5, 1)), end_of_day(date(2026, 7, 27)), CALENDAR, height=3
    )
    listed = [(p.key, p.up) for p in steps if p.step.id == "listed"]
    assert listed == [("listed", 1), ("listed.2", 2), ("listed.3", 3)]
    gaps = [b.at - a.at for a, b in itertools.pairwise(steps)]
    assert all(gap > timedelta(0) for gap in gaps)


def test_working_day_steps_wait_over_a_holiday() -> None:
    # National Day 2026: 10-01 .. 10-07 are rest days; a deadline on Tue 09-29.
    steps = _plan(date(2026, 9, 29), height=1)
    supervision = steps["supervision"]  # three working days after: 09-30, 10-09, 10-10 ...
    assert CALENDAR.is_working_day(local_date(supervision))
    assert not any(CALENDAR.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert local_date(supervision) > date(2026, 10, 7)
    raw = restrict(
        datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI),
        Hours.WORKING_DAYS,
        CALENDAR,
        LADDERS.working_hours,
    )
    assert local_date(raw) == CALENDAR.working_day_on_or_after(date(2026, 10, 2))
    assert raw.time().hour == 0


def test_the_fast_lane_starts_at_supervision_on_the_warnings_time() -> None:
    normal = _plan(date(2026, 7, 27), height=1)
    fast = _plan(date(2026, 7, 27), height=1, fast_lane=True)
    assert list(fast) == ["supervision", "listed"]
    assert fast["supervision"].date() == normal["warning"].date()
    assert fast["listed"].date() == normal["reminder"].date()


def test_a_step_passed_over_by_one_taken_is_skipped_not_sent_late() -> None:
    steps = plan(
        HANDLING, end_of_day(date(2026, 5, 1)), end_of_day(date(2026, 7, 27)), CALENDAR, height=1
    )
    later = datetime(2026, 9, 1, tzinfo=SHANGHAI)
    assert [p.key for p in Plan(steps).due(later)] == [p.key for p in steps]
    after_supervision = Plan(steps, frozenset({"supervision"}))
    assert [p.key for p in after_supervision.skipped()] == ["warning", "reminder"]
    assert [p.key for p in after_supervision.due(later)] == ["listed"]
    assert Plan(steps).skipped() == []


def _bundled() -> dict:
    return yaml.safe_load((LADDER_DIR / "cn-2022.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["ladders"]["handling-60d"]["steps"][2].pop("after"),
            "ladder 'handling-60d', step 2 ('supervision'): (top level): "
            "give exactly one of before, after, at_fraction",
        ),
        (
            lambda d: d["ladders"]["handling-60d"]["steps"][1].update(region="moon"),
            "ladder 'handling-60d', step 1 ('reminder'): region:",
        ),
        (
            lambda d: d["ladders"]["urgent"]["steps"][0].update(at_fraction=1.5),
            "ladder 'urgent', step 0 ('warning'): at_fraction:",
        ),
        (
            lambda d: d["ladders"]["review-30d"]["repeat"].update({"from": "nowhere"}),
            "ladder 'review-30d': repeat.from: no step 'nowhere'",
        ),
        (
            lambda d: d["defaults"].update(handling="missing"),
            "defaults.handling: no ladder 'missing'",
        ),
        (
            lambda d: d["ladders"]["period-15d"]["steps"].reverse(),
            "ladder 'period-15d', step 1 ('supervision'): after.days: earlier than the step",
        ),
    ],
)
def test_a_bad_ladder_file_names_file_ladder_step_and_field(
    tmp_path: Path, edit: object, message: str
) -> None:
    document = _bundled()
    edit(document)  # type: ignore[operator]
    with pytest.raises(LadderError) as raised:
        parse_ladders(document, origin="ladders/cn-2022.yaml")
    assert str(raised.value).startswith("ladders/cn-2022.yaml: ")
    assert message in str(raised.value)
