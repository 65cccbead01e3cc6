"""`xinfang deadline`: the operator's deadline calculator.

    xinfang deadline --policy cn-2022 --clock handling --start 2026-09-28 \
        [--extension-days N] [--json]

``--start`` is a date (the start of that local day) or an RFC 3339 time; a time without an offset
is Asia/Shanghai. Bad arguments raise click.BadParameter: one line on stderr, exit code 2.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from dispatcher.adapters.files.calendar import CalendarError, china_calendar
from dispatcher.adapters.files.policies import load_policy
from dispatcher.domain.calendar import WorkCalendar
from dispatcher.domain.clocks import SHANGHAI, ClockSpec, due
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
        raise click.BadParameter(
            f"clock {spec.name!r} of policy {policy.id!r} cannot be extended",
            param_hint="--extension-days",
        )
    if days > allowed.max_days:
        raise click.BadParameter(
            f"{days} exceeds the {allowed.max_days} days {policy.id!r} "
            f"allows for {spec.name!r} ({spec.article})",
            param_hint="--extension-days",
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
    }


def render(report: dict[str, Any]) -> str:
    due_at = datetime.fromisoformat(report["due"])
    unit = report["unit"].replace("_", " ")
    extension = f" + {report['extension_days']} extension" if report["extension_days"] else ""
    lines = [
        f"due      {due_at:%Y-%m-%d %H:%M:%S %z} ({due_at:%A})",
        f"clock    {report['clock']} ({report['policy']}): {report['days']} {unit}{extension}, "
        f"from {report['start']}",
        f"article  {report['article']}",
        f"basis    {report['basis']}",
    ]
    if not report["calendar_years_known"]:
        lines.append(
            "warning  the calendar has no holiday data for part of this period: "
            "weekends only were counted as rest days"
        )
    return "\n".join(lines)


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
