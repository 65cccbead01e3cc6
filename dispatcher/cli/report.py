"""`xinfang report`: the KPIs from the database, for a window of receipt, in one row or per
district, kind of department or channel.

    xinfang report [--since T] [--until T] [--by district|kind|channel] [--now T] [--csv|--json]

The window selects cases by the time they were received: [since, until). Clocks, evaluations and
escalation steps are judged as of `until` or now, whichever is earlier. A time is a date (the
start of that day in Asia/Shanghai) or an RFC 3339 time, as `xinfang overdue --now` takes it.
The definitions are in docs/kpis.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.deadline import parse_start
from dispatcher.demo.report import display_width, kpi_entry
from dispatcher.domain.clocks import SHANGHAI
from monitoring.kpi import (
    GROUPINGS,
    KPIS,
    KpiRow,
    Ratio,
    Scope,
    Target,
    kpi_report,
    mark,
    total,
)

HEADINGS = {"district": "district or county", "kind": "kind of department", "channel": "channel"}
ALL = "all"  # the key of the row that sums the groups
NOTE = (
    "cases: every case received in the window, a review or re-review being a case of its own; "
    "each rate is of what it counts (docs/kpis.md); —: nothing to count"
)


def _time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_start(value)
    except click.BadParameter as error:  # told under this option's name, not --start
        raise click.BadParameter(error.message) from None


def _time_option(name: str, help_text: str) -> Callable[[Any], Any]:
    return click.option(name, metavar="TIME", callback=_time, help=help_text)


@click.command("report")
@_time_option("--since", "Cases received at or after this time.")
@_time_option("--until", "Cases received before this time; judged as of it, if it is past.")
@click.option(
    "--by",
    type=click.Choice(GROUPINGS),
    help="A row per district or county (the region's first 6 digits), kind of the responsible "
    "department, or channel, then one for all (default: one row for all).",
)
@_time_option("--now", "Judge as of this time (default: now): for tests and replays.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: a row per group, then the row 'all'.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def report(
    since: datetime | None,
    until: datetime | None,
    by: str | None,
    now: datetime | None,
    as_csv: bool,
    as_json: bool,
) -> None:
    """The KPIs against their targets: timely acceptance, on-time completion, online share,
    satisfaction, evaluation participation and escalation rate (docs/kpis.md)."""
    if as_csv and as_json:
        raise click.UsageError("--csv and --json cannot be used together")
    if since is not None and until is not None and since >= until:
        raise click.BadParameter("must be before --until", param_hint="'--since'")
    app = common.build_app(common.settings())
    try:
        scope = Scope.of(now or app.clock(), since, until, by)
        with app.engine.connect() as conn:
            rows = kpi_report(conn, scope)
        directory = app.decider.ruleset.directory
    finally:
        app.close()
    named = [row.key for row in rows if by == "district" and row.key]
    names = {key: name for key in named if (name := directory.region_name(key))}
    shown = Report(scope, rows if by else [], total(rows), names)
    click.echo(shown.as_csv() if as_csv else shown.as_json() if as_json else shown.as_text())


@dataclass(frozen=True)
class Report:
    scope: Scope
    groups: list[KpiRow]  # none when the report is not grouped
    overall: KpiRow  # every case of the scope
    names: dict[str, str]  # a district's name, by its code, where the directory has it

    # ---- text ---------------------------------------------------------------------------------
    def as_text(self) -> str:
        heading = [HEADINGS[self.scope.by] if self.scope.by else "", "cases"]
        matrix = [
            [*heading, *(label for label, _target in KPIS.values())],
            ["", "", *(f"target {t}" if t else "no target" for _label, t in KPIS.values())],
            *(self._text_row(row) for row in self._rows()),
        ]
        return "\n".join([self._title(), "", *_aligned(matrix, right={1}), "", NOTE])

    def _rows(self) -> list[KpiRow]:
        return [*self.groups, self.overall]

    def _text_row(self, row: KpiRow) -> list[str]:
        name = self._name(row)
        key = ALL if row.key is None else f"{row.key} {name}" if name else row.key
        cells = [_cell(row.ratios[kpi], target) for kpi, (_label, target) in KPIS.items()]
        return [key, str(row.cases), *cells]

    def _title(self) -> str:
        per = f", per {HEADINGS[self.scope.by]}" if self.scope.by else ""
        return f"KPIs of {self._window()}, as of {_local(self.scope.as_of)}{per} (Asia/Shanghai):"

    def _window(self) -> str:
        since, until = self.scope.since, self.scope.until
        if since and until:
            return f"the cases received from {_local(since)} to {_local(until)} (excluded)"
        if since:
            return f"the cases received from {_local(since)} on"
        return f"the cases received before {_local(until)}" if until else "every case"

    # ---- CSV and JSON -------------------------------------------------------------------------
    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self._csv_header())
        for row in self._rows():
            writer.writerow(self._csv_row(row))
        return out.getvalue().rstrip("\n")

    def _csv_header(self) -> list[str]:
        first = [self.scope.by or "group", *(["name"] if self.scope.by == "district" else [])]
        return [*first, "cases", *(column for name in KPIS for column in _csv_columns(name))]

    def _csv_row(self, row: KpiRow) -> list[Any]:
        first = [row.key or ALL, *([self._name(row) or ""] if self._named() else [])]
        values: list[Any] = [*first, row.cases]
        for name, (_label, target) in KPIS.items():
            ratio = row.ratios[name]
            rate = "" if ratio.rate is None else f"{ratio.rate:.6f}"
            values += [ratio.good, ratio.total, rate, *([mark(ratio, target)] if target else [])]
        return values

    def _named(self) -> bool:
        """Districts have names, from the org directory; kinds and channels are their keys."""
        return self.scope.by == "district"

    def _name(self, row: KpiRow) -> str | None:
        return self.names.get(row.key) if row.key else None

    def as_json(self) -> str:
        scope = self.scope
        document = {
            "since": _instant(scope.since),
            "until": _instant(scope.until),
            "as_of": _instant(scope.as_of),
            "by": scope.by,
            "groups": [self._json_row(row) for row in self.groups],
            "all": self._json_row(self.overall),
        }
        return json.dumps(document, ensure_ascii=False, indent=2)

    def _json_row(self, row: KpiRow) -> dict[str, Any]:
        named = {"name": self._name(row)} if self._named() and row.key else {}
        kpis = {name: kpi_entry(row.ratios[name], target) for name, (_, target) in KPIS.items()}
        return ({"key": row.key} if row.key else {}) | named | {"cases": row.cases, "kpis": kpis}


def _aligned(matrix: list[list[str]], right: set[int]) -> list[str]:
    """Columns as wide as their widest cell on a terminal; those in `right` to the right."""
    widths = [max(display_width(row[i]) for row in matrix) for i in range(len(matrix[0]))]

    def align(i: int, cell: str) -> str:
        room = " " * (widths[i] - display_width(cell))
        return room + cell if i in right else cell + room

    return ["  ".join(align(i, cell) for i, cell in enumerate(row)).rstrip() for row in matrix]


def _cell(ratio: Ratio, target: Target | None) -> str:
    """The rate with its counts, and met or missed where there is a target; — with no data."""
    if not ratio.total:
        return "—"
    return f"{ratio} {mark(ratio, target)}" if target else str(ratio)


def _csv_columns(name: str) -> list[str]:
    marked = [f"{name}_mark"] if KPIS[name][1] else []
    return [f"{name}_good", f"{name}_total", f"{name}_rate", *marked]


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _instant(moment: datetime | None) -> str | None:
    return moment.astimezone(SHANGHAI).isoformat() if moment else None
