"""`xinfang deadline`: the operator's deadline calculator.

    xinfang deadline --policy cn-2022 --clock handling --start 2026-09-28 \
        [--extension-days N] [--json]

``--start`` is a date (the start of that local day) or an RFC 3339 time; a time without an offset
is Asia/Shanghai. The output says why the deadline falls where it does: the weekday holidays the
period skipped, the make-up working days (调休) it counted, and a last day moved off a rest day.

A command line not understood is a usage error (exit 2); an extension the law does not allow is
refused (exit 1), as `xinfang case extend` refuses it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from dispatcher.adapters.files.calendar import CalendarError, china_calendar, holiday_name
from dispatcher.adapters.files.policies import load_policy
from dispatcher.cli import common
from dispatcher.cli.common import plural
from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.clocks import SHANGHAI, ClockSpec, Unit, due
from dispatcher.domain.policy import DEFAULT_POLICY, Policy, PolicyError


def parse_start(text: str) -> datetime:
    """A date (00:00 local) or an RFC 3339 / ISO 8601 time; naive times are Asia/Shanghai."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            return datetime.combine(date.fromisoformat(cleaned), datetime.min.time(), SHANGHAI)
        moment = datetime.fromisoformat(cleaned.upper().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a date (2026-09-28) nor an RFC 3339 "
            "time (2026-09-28T09:30:00+08:00)",
            param_hint="--start",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def _policy(name: str) -> Policy:
    try:
        return load_policy(name)
    except PolicyError as error:
        raise click.BadParameter(str(error), param_hint="--policy") from None


def _clock(policy: Policy, name: str) -> ClockSpec:
    try:
        return policy.clock(name)
    except PolicyError as error:
        raise click.BadParameter(str(error), param_hint="--clock") from None


def _check_extension(policy: Policy, spec: ClockSpec, days: int) -> None:
    if days == 0:
        return
    if days < 0:
        raise click.BadParameter(f"must not be negative, got {days}", param_hint="--extension-days")
    allowed = policy.extensions.get(spec.name)
    if allowed is None:
        raise common.Failed(
            f"refused: clock {spec.name!r} of policy {policy.id!r} cannot be extended"
        )
    if days > allowed.max_days:
        raise common.Failed(
            f"refused: an extension of {plural(days, 'day')} exceeds the {allowed.max_days} days "
            f"{policy.id!r} allows for {spec.name!r} ({spec.article})"
        )


def _calendar(override: Path | None) -> WorkCalendar:
    try:
        return china_calendar(override)
    except CalendarError as error:
        raise click.BadParameter(str(error), param_hint="--calendar-override") from None


def deadline_report(
    policy: Policy, spec: ClockSpec, start: datetime, calendar: WorkCalendar, extension_days: int
) -> dict[str, Any]:
    """The JSON object `xinfang deadline --json` prints."""
    deadline = due(start, spec, calendar, extension_days=extension_days)
    assert deadline is not None  # no pauses here
    local_start = start.astimezone(SHANGHAI)
    years = set(range(local_start.year, deadline.year + 1))
    return {
        "policy": policy.id,
        "clock": spec.name,
        "start": local_start.isoformat(),
        "due": deadline.isoformat(),
        "due_date": deadline.date().isoformat(),  # the last day of the period, local
        "days": spec.days,
        "unit": str(spec.unit),
        "article": spec.article,
        "basis": spec.basis,
        "extension_days": extension_days,
        "calendar_years_known": years <= calendar.known_years(),
    } | _why(spec, local_start.date(), deadline.date(), calendar, extension_days)


def _why(
    spec: ClockSpec, start: date, last: date, calendar: WorkCalendar, extension_days: int
) -> dict[str, Any]:
    """Why the period ends on `last`: the day the count alone gives (calendar days), and the
    days of (start, last] the calendar treats differently from a plain week."""
    counted = None
    first = start  # holidays skipped lie after it: all of a working-day period's
    if spec.unit is Unit.CALENDAR_DAYS:  # holidays count, unless the last day is one
        counted = first = start + timedelta(days=spec.days + extension_days)
        first -= timedelta(days=1)
    days = [first + timedelta(days=n) for n in range(1, (last - first).days + 1)]
    holidays = [d for d in days if not calendar.is_working_day(d) and _is_holiday(d)]
    weekend_work = [d for d in days if d.weekday() >= 5 and calendar.is_working_day(d)]
    return {
        # calendar days: the N-th day, before the end moves off rest days
        "counted_last_day": counted.isoformat() if counted else None,
        "holidays_skipped": [_day(d) for d in holidays],
        "makeup_workdays": [_day(d) for d in weekend_work],
        "due_is_makeup_workday": bool(weekend_work) and weekend_work[-1] == last,
    }


def _is_holiday(day: date) -> bool:
    """A rest day that is not an ordinary weekend: a weekday off, or part of a named holiday."""
    return day.weekday() < 5 or holiday_name(day) is not None


def _day(day: date) -> dict[str, str | None]:
    return {"date": day.isoformat(), "name": holiday_name(day)}


def render(report: dict[str, Any]) -> str:
    due_at = datetime.fromisoformat(report["due"])
    unit = report["unit"].replace("_", " ").removesuffix("s")
    extension = (
        f" + {plural(report['extension_days'], 'day')} extension"
        if report["extension_days"]
        else ""
    )
    makeup = ": a make-up working day (调休)" if report["due_is_makeup_workday"] else ""
    lines = [
        f"due      {due_at:%Y-%m-%d %H:%M:%S %z} Asia/Shanghai, {due_at:%A}{makeup}",
        f"clock    {report['clock']} ({report['policy']}): {plural(report['days'], unit)}"
        f"{extension}, from {report['start']}",
        *_why_lines(report),
        f"article  {report['article']}",
        f"basis    {report['basis']}",
    ]
    if not report["calendar_years_known"]:
        lines.append(
            "warning  the calendar has no holiday data for part of this period: "
            "weekends only were counted as rest days"
        )
    return "\n".join(lines)


def _why_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    counted, due_date = report["counted_last_day"], report["due_date"]
    if counted and counted != due_date:
        lines.append(
            f"why      the last day counted, {counted} ({date.fromisoformat(counted):%A}), is a "
            f"rest day: the period ends on the next working day, {due_date}"
        )
    if report["holidays_skipped"]:
        lines.append(f"skipped  holidays: {_days_text(report['holidays_skipped'])}")
    if report["makeup_workdays"]:
        lines.append(f"counted  make-up working days: {_days_text(report['makeup_workdays'])}")
    return lines


def _days_text(days: list[dict[str, str | None]]) -> str:
    """'2026-10-01 … 2026-10-07 (National Day), 2026-10-10 (National Day)'."""
    runs: list[list[dict[str, str | None]]] = []
    for day in days:
        previous = runs[-1][-1] if runs else None
        if (
            previous
            and _next_day(previous["date"]) == day["date"]
            and previous["name"] == day["name"]
        ):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(_run_text(run) for run in runs)


def _next_day(text: str | None) -> str:
    return (date.fromisoformat(text or "") + timedelta(days=1)).isoformat()


def _run_text(run: list[dict[str, str | None]]) -> str:
    span = run[0]["date"] if len(run) == 1 else f"{run[0]['date']} … {run[-1]['date']}"
    return f"{span} ({run[0]['name']})" if run[0]["name"] else str(span)


@click.command()
@click.option(
    "--policy",
    "policy_name",
    default=DEFAULT_POLICY,
    show_default=True,
    help="A bundled policy id or a policy YAML file.",
)
@click.option(
    "--clock",
    "clock_name",
    required=True,
    help="forwarding, acceptance, objection, handling, review_request, review, "
    "rereview_request or rereview.",
)
@click.option(
    "--start",
    "start_text",
    required=True,
    help="The starting event: a date (start of that day) or an RFC 3339 time; "
    "without an offset, Asia/Shanghai.",
)
@click.option(
    "--extension-days",
    default=0,
    show_default=True,
    type=int,
    help="An approved extension, in the clock's unit (Art 34: at most 30, once).",
)
@click.option(
    "--calendar-override",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="XINFANG_CALENDAR_OVERRIDE",
    help="A YAML file adding or correcting holiday years [env XINFANG_CALENDAR_OVERRIDE].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def deadline(
    policy_name: str,
    clock_name: str,
    start_text: str,
    extension_days: int,
    calendar_override: Path | None,
    as_json: bool,
) -> None:
    """Print when a statutory clock runs out, with its article and legal basis."""
    policy = _policy(policy_name)
    spec = _clock(policy, clock_name)
    start = parse_start(start_text)
    _check_extension(policy, spec, extension_days)
    report = deadline_report(policy, spec, start, _calendar(calendar_override), extension_days)
    click.echo(json.dumps(report, ensure_ascii=False) if as_json else render(report))
