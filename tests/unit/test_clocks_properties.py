"""Property tests (hypothesis) for the clock invariants of issue 3: an extension never shortens
a deadline, a pause shifts it by exactly the paused time in the clock's unit, a deadline never
ends on a non-working day, and the deadline is monotonic in the start."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.adapters.files.calendar import china_calendar
from dispatcher.domain.clocks import END_OF_DAY, SHANGHAI, ClockSpec, Pause, Unit, due, local_date

CAL = china_calendar()

# Starts inside the years chinese_calendar knows, with deadlines that may run past 2026.
starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(SHANGHAI)
)
specs = st.builds(
    ClockSpec,
    name=st.just("clock"),
    days=st.integers(1, 90),
    unit=st.sampled_from(Unit),
    article=st.just("Art 34"),
    basis=st.just("-"),
)
extensions = st.integers(0, 60)


@st.composite
def pauses(draw: st.DrawFn, after: datetime) -> Pause:
    """A finished pause beginning within 60 days of ``after`` and lasting up to 40 days."""
    begin = after + draw(st.timedeltas(timedelta(0), timedelta(days=60)))
    return Pause(begin, begin + draw(st.timedeltas(timedelta(0), timedelta(days=40))))


def _due(start: datetime, spec: ClockSpec, **kwargs: object) -> datetime:
    result = due(start, spec, CAL, **kwargs)  # type: ignore[arg-type]
    assert result is not None
    return result


@settings(max_examples=300, deadline=None)
@given(starts, specs, extensions, extensions)
def test_an_extension_never_shortens_a_deadline(
    start: datetime, spec: ClockSpec, a: int, b: int
) -> None:
    shorter, longer = sorted((a, b))
    assert (
        _due(start, spec)
        <= _due(start, spec, extension_days=shorter)
        <= _due(start, spec, extension_days=longer)
    )


@settings(max_examples=300, deadline=None)
@given(starts, specs, extensions, st.data())
def test_a_deadline_ends_at_the_end_of_a_working_day(
    start: datetime, spec: ClockSpec, extension: int, data: st.DataObject
) -> None:
    pause = data.draw(pauses(start))
    deadline = _due(start, spec, extension_days=extension, pauses=[pause])
    assert CAL.is_working_day(deadline.date())
    assert deadline.tzinfo is SHANGHAI and deadline.time() == END_OF_DAY
    assert deadline.date() > local_date(start)


@settings(max_examples=300, deadline=None)
@given(starts, starts, specs)
def test_due_is_monotonic_in_start(a: datetime, b: datetime, spec: ClockSpec) -> None:
    early, late = sorted((a, b))
    assert _due(early, spec) <= _due(late, spec)


@settings(max_examples=300, deadline=None)
@given(starts, st.integers(1, 90), st.data())
def test_a_pause_shifts_a_working_day_clock_by_the_paused_working_days(
    start: datetime, days: int, data: st.DataObject
) -> None:
    spec = ClockSpec("objection", days, Unit.WORKING_DAYS, "Art 23", "-")
    pause = data.draw(pauses(start))
    paused = CAL.working_days_between(local_date(pause.start), local_date(pause.end))
    without, with_pause = _due(start, spec), _due(start, spec, pauses=[pause])
    # Both deadlines fall on working days, so the working days between them are exactly
    # the paused ones.
    assert CAL.working_days_between(without.date(), with_pause.date()) == paused


@settings(max_examples=300, deadline=None)
@given(starts, st.integers(1, 90), st.data())
def test_a_pause_shifts_a_calendar_day_clock_by_the_paused_days(
    start: datetime, days: int, data: st.DataObject
) -> None:
    spec = ClockSpec("handling", days, Unit.CALENDAR_DAYS, "Art 34", "-")
    pause = data.draw(pauses(start))
    paused = (local_date(pause.end) - local_date(pause.start)).days
    with_pause = _due(start, spec, pauses=[pause])
    # The unrolled last day moves by exactly the paused days; then the rest-day roll-forward.
    shifted: date = local_date(start) + timedelta(days=days + paused)
    assert with_pause.date() == CAL.working_day_on_or_after(shifted)
    assert with_pause >= _due(start, spec)


@settings(max_examples=200, deadline=None)
@given(starts, specs, st.data())
def test_an_open_pause_leaves_no_due(start: datetime, spec: ClockSpec, data: st.DataObject) -> None:
    finished = data.draw(pauses(start))
    assert due(start, spec, CAL, pauses=[finished, Pause(finished.start)]) is None
