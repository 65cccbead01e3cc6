"""`xinfang case list`: the cases a petition office looks for, the earliest deadline first.

    xinfang case list [--stage S ...] [--unit UNIT_ID] [--region PREFIX] [--due-before TIME]
                      [--overdue] [--now TIME] [--limit N] [--json]

A time is a date (the start of that Asia/Shanghai day) or an RFC 3339 time; without an offset
it is Asia/Shanghai. A running clock is a duty clock (forwarding, acceptance, handling, review,
re-review, the source's own due) not met yet; a party's windows are not deadlines of anybody.
The petitioner's identity is never read.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from dispatcher.cli import common
from dispatcher.cli.deadline import parse_start
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.stages import Stage

if TYPE_CHECKING:
    from dispatcher.adapters.db.listing import Found

_REGION_PREFIX = re.compile(r"[0-9]{1,12}")
_TITLE_WIDTH = 24


@click.command("list")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice([stage.value for stage in Stage]),
    help="Only cases at this stage; repeat it for several.",
)
@click.option("--unit", metavar="UNIT_ID", help="Only cases of this org unit, e.g. 500103:housing.")
@click.option(
    "--region",
    metavar="PREFIX",
    help="Only cases of region codes starting so: 500103 is the district, its towns and villages.",
)
@click.option(
    "--due-before",
    metavar="TIME",
    help="Only cases with a running clock due before TIME: a date (its start, Asia/Shanghai) "
    "or an RFC 3339 time.",
)
@click.option("--overdue", is_flag=True, help="Only cases with a running clock past due.")
@click.option("--now", metavar="TIME", help="What is overdue, as of this time (default: now).")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most N cases."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_cases(
    stages: tuple[str, ...],
    unit: str | None,
    region: str | None,
    due_before: str | None,
    overdue: bool,
    now: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Find cases: the earliest due of a running clock first, then by registration."""
    from dispatcher.adapters.db.listing import CaseFilter, find_cases

    _check(unit, region)
    before, given_now = _time(due_before, "--due-before"), _time(now, "--now")
    app = common.build_app(common.settings())
    try:
        as_of = given_now or app.clock()
        if overdue:
            before = min(before, as_of) if before else as_of
        with app.engine.connect() as conn:
            found = find_cases(conn, CaseFilter(stages, unit, region, before), limit)
    finally:
        app.close()
    _print(found, as_of, as_json)


def _print(found: Found, as_of: datetime, as_json: bool) -> None:
    for row in found.rows:
        click.echo(_json(row, as_of) if as_json else _line(row, as_of))
    shown = f"{common.plural(len(found.rows), 'case')} shown"
    if found.more:
        shown += ", more match: narrow the filters or raise --limit"
    if not as_json:
        click.echo(shown)
    elif found.more:  # stdout stays one object a line; the person running it is told
        click.echo(shown, err=True)


def _check(unit: str | None, region: str | None) -> None:
    if unit is not None and not unit.strip():
        raise click.BadParameter("must not be empty", param_hint="--unit")
    if region is not None and not _REGION_PREFIX.fullmatch(region):
        raise click.BadParameter(
            f"{region!r} is not a region code prefix (1 to 12 digits)", param_hint="--region"
        )


def _time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_start(value)
    except click.BadParameter as error:
        raise click.BadParameter(error.message, param_hint=option) from None


def _late(row: dict[str, Any], as_of: datetime) -> bool:
    return row["due_at"] is not None and row["due_at"] < as_of


def _json(row: dict[str, Any], as_of: datetime) -> str:
    shown = {
        key: value.astimezone(SHANGHAI).isoformat() if isinstance(value, datetime) else value
        for key, value in row.items()
    }
    return json.dumps(shown | {"overdue": _late(row, as_of)}, ensure_ascii=False)


def _line(row: dict[str, Any], as_of: datetime) -> str:
    clock = "—"
    if row["clock"] is not None:
        clock = f"{row['clock']:<10} {row['due_at'].astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
    title = row["title"]
    if len(title) > _TITLE_WIDTH:
        title = title[: _TITLE_WIDTH - 1] + "…"
    return (
        f"{row['case_id']}  {row['source']}/{row['external_id']}  {row['stage']:<12} "
        f"{row['region']:<12} {row['org_unit_id'] or '—':<24} {clock:<27} "
        f"{'overdue' if _late(row, as_of) else '':<7}  {title}"
    )
