"""Clock mechanics: validation, the due-instant representation, status, pause bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.adapters.files.calendar import china_calendar
from dispatcher.domain.clocks import (
    END_OF_DAY,
    SHANGHAI,
    ClockSpec,
    ClockState,
    Pause,
    Unit,
    due,
    paused_days,
    status,
)

CAL = china_calendar()
DAYS_30 = ClockSpec("review", 30, Unit.CALENDAR_DAYS, "Art 35", "30日内提出复查意见")
WD_5 = ClockSpec("objection", 5, Unit.WORKING_DAYS, "Art 23", "5个工作日内提出异议")
START = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)  # Monday; 30 d -> Wed 04-01
DUE = datetime(2026, 4, 1, 23, 59, 59, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def test_due_is_the_last_second_of_the_local_day() -> None:
    deadline = due(START, DAYS_30, CAL)
    assert deadline == DUE
    assert deadline is not None and deadline.tzinfo is SHANGHAI
    assert deadline.timetz().replace(tzinfo=None) == END_OF_DAY
    assert deadline.isoformat() == "2026-04-01T23:59:59+08:00"


def test_the_same_instant_in_another_zone_gives_the_same_due() -> None:
    assert due(START.astimezone(UTC), DAYS_30, CAL) == DUE


def test_clock_spec_validation() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ClockSpec("x", 0, Unit.CALENDAR_DAYS, "Art 1", "b")
    assert ClockSpec("x", 1, "working_days", "Art 1", "b").unit is Unit.WORKING_DAYS  # type: ignore[arg-type]


def test_negative_extension_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        due(START, DAYS_30, CAL, extension_days=-1)


@pytest.mark.parametrize("naive", [datetime(2026, 3, 2, 9)])
def test_naive_times_are_refused(naive: datetime) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due(naive, DAYS_30, CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        Pause(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        status(START, DAYS_30, CAL, naive)


def test_a_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Pause(at(3, 10), at(3, 9))


def test_a_pause_within_one_day_shifts_nothing() -> None:
    assert due(START, DAYS_30, CAL, pauses=[Pause(at(3, 10, 9), at(3, 10, 17))]) == DUE


def test_overlapping_pauses_count_each_day_once() -> None:
    pauses = [Pause(at(3, 10), at(3, 15)), Pause(at(3, 12), at(3, 18)), Pause(at(3, 20), at(3, 21))]
    # union of (03-10, 03-18] and (03-20, 03-21]: 8 + 1 calendar days
    assert paused_days(pauses, Unit.CALENDAR_DAYS, CAL) == 9
    # working days among 03-11..03-18 and 03-21: 11,12,13,16,17,18 (03-21 is a Saturday)
    assert paused_days(pauses, Unit.WORKING_DAYS, CAL) == 6


def test_status_running() -> None:
    now = at(3, 31, 10)
    state = status(START, DAYS_30, CAL, now)
    assert state.state is ClockState.RUNNING
    assert state.due == DUE and state.remaining == DUE - now
    assert state.days_overdue == 0 and not state.late


def test_status_running_at_the_due_instant_itself() -> None:
    assert status(START, DAYS_30, CAL, DUE).state is ClockState.RUNNING


def test_status_overdue_counts_local_days() -> None:
    state = status(START, DAYS_30, CAL, DUE + timedelta(seconds=1))
    assert state.state is ClockState.OVERDUE and state.days_overdue == 1
    state = status(START, DAYS_30, CAL, at(4, 4, 8))
    assert state.state is ClockState.OVERDUE and state.days_overdue == 3
    assert state.remaining is not None and state.remaining < timedelta(0)


def test_status_met_on_time_and_late() -> None:
    on_time = status(START, DAYS_30, CAL, at(5, 1), met_at=at(3, 20))
    assert on_time.state is ClockState.MET and not on_time.late
    assert on_time.remaining == DUE - at(3, 20)
    late = status(START, DAYS_30, CAL, at(5, 1), met_at=at(4, 3))
    assert late.state is ClockState.MET and late.late and late.days_overdue == 2


def test_status_paused_and_met_while_paused() -> None:
    hearing = Pause(at(3, 10))
    paused = status(START, DAYS_30, CAL, at(6, 1), pauses=[hearing])
    assert paused.state is ClockState.PAUSED
    assert paused.due is None and paused.remaining is None and paused.days_overdue == 0
    met = status(START, DAYS_30, CAL, at(6, 1), met_at=at(4, 1), pauses=[hearing])
    assert met.state is ClockState.MET and met.due is None


def test_extension_in_working_days_counts_working_days() -> None:
    # objection 5 wd from Mon 2026-03-02: 03-03..03-06, 03-09 -> 03-09; + 2 wd -> 03-11
    assert due(START, WD_5, CAL) == datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
    assert due(START, WD_5, CAL, extension_days=2) == datetime(
        2026, 3, 11, 23, 59, 59, tzinfo=SHANGHAI
    )
