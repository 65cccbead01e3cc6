"""The demo's report, as a petition office leader reads it: the KPIs against their targets, what
is overdue now, the lines the intake refused and why, and tables that each say what they count.
Rendered as text or as one JSON object with the same content. Never a petitioner's identity:
cases are named by their id, units by their name."""

from __future__ import annotations

import shlex
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.wording import plural
from monitoring.kpi import KPIS, Kpis, Ratio, Target, mark

TOP_UNITS = 10  # departments listed by name; the rest are summed in one row
TOP_RULES = 25
TOP_DISTRICTS = 15
LISTED_OVERDUE = 10
LISTED_REJECTED = 20


# The platform's four KPIs with their labels and targets, as monitoring/kpi.py states them.
KPI_TARGETS: dict[str, tuple[str, Target | None]] = {
    kpi.name: KPIS[kpi.name] for kpi in fields(Kpis)
}

# Which KPI an overdue or late clock counts against (monitoring/kpi.py).
KPI_OF_CLOCK = {
    "forwarding": "timely acceptance",
    "acceptance": "timely acceptance",
    "handling": "on-time completion",
    "review": "on-time completion",
    "rereview": "on-time completion",
}


def kpi_entry(ratio: Ratio, target: Target | None) -> dict[str, Any]:
    """A KPI with its target and mark, for JSON."""
    return asdict(ratio) | {
        "rate": ratio.rate,
        "target": str(target) if target else None,
        "mark": mark(ratio, target),
    }


def kpi_entries(kpis: Kpis) -> dict[str, dict[str, Any]]:
    """Each KPI with its target and mark, for JSON."""
    return {
        name: kpi_entry(getattr(kpis, name), target)
        for name, (_label, target) in KPI_TARGETS.items()
    }


@dataclass(frozen=True)
class Table:
    """Counts by key, with their total and what it counts, so that every table reconciles with
    the others; beyond `limit` rows, the rest is summed in one row."""

    title: str
    counts: dict[str, int]
    counted: str  # what the total counts: "cases registered"
    note: str = ""  # how it relates to the other tables: "16 in triage"
    limit: int | None = None
    others: str = "others"  # what the rest row sums: "other units"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))

    def shown(self) -> list[tuple[str, int]]:
        return self.rows()[: self.limit] if self.limit else self.rows()

    def rest(self) -> tuple[int, int]:
        """(keys, count) beyond the shown rows."""
        hidden = self.rows()[len(self.shown()) :]
        return len(hidden), sum(n for _, n in hidden)

    def heading(self) -> str:
        parts = [f"{self.total} {self.counted}", *([self.note] if self.note else [])]
        if self.rest()[0]:
            keys = self.others.removeprefix("other ")
            parts.append(f"{len(self.counts)} {keys}, the {self.limit} with most shown")
        return f"{self.title} ({'; '.join(parts)}):"

    def lines(self) -> list[str]:
        """The table as text; nothing at all for a table with nothing in it."""
        if not self.counts:
            return []
        hidden, hidden_count = self.rest()
        rows = self.shown() + ([(f"… {hidden} {self.others}", hidden_count)] if hidden else [])
        width = max(display_width(key) for key, _ in rows)
        return [
            "",
            self.heading(),
            *(f"  {pad(key, width)}  {n:>5}  {100 * n / self.total:5.1f} %" for key, n in rows),
        ]

    def as_dict(self) -> dict[str, Any]:
        hidden, hidden_count = self.rest()
        return {
            "title": self.title,
            "total": self.total,
            "counted": self.counted,
            "note": self.note or None,
            "rows": dict(self.shown()),
            "rest": {self.others: hidden, "count": hidden_count} if hidden else None,
        }


def display_width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """`text` filled with spaces to `width` columns on a terminal."""
    return text + " " * (width - display_width(text))


@dataclass(frozen=True)
class OverdueClock:
    """A duty past its deadline and not met when the simulation ended."""

    case_id: str
    reference: str  # source/external_id: the channel system's number for it
    clock: str
    due: str  # the local day of the deadline
    days_overdue: int
    stage: str
    unit: str
    unit_kind: str

    def line(self) -> str:
        return (
            f"  {self.case_id}  {self.reference}  {self.clock:<10}  due {self.due}  "
            f"{self.days_overdue:>3} {'day ' if self.days_overdue == 1 else 'days'}  "
            f"{self.stage:<9}  {self.unit}"
        )


@dataclass(frozen=True)
class Overdue:
    """What is overdue at the end of the simulation, as `xinfang overdue --now END` lists it,
    and the periods met after their deadline."""

    clocks: list[OverdueClock] = field(default_factory=list)
    met_late: dict[str, int] = field(default_factory=dict)  # clock -> periods met late

    def cases(self) -> int:
        return len({c.case_id for c in self.clocks})

    def per(self, what: str) -> dict[str, int]:
        """Overdue duties by an attribute: "clock", "stage" or "unit_kind"."""
        return dict(Counter(getattr(c, what) for c in self.clocks))

    def tables(self) -> list[Table]:
        counted = f"duties past their deadline on {plural(self.cases(), 'case')}"
        per_clock = {
            f"{clock} (against {KPI_OF_CLOCK.get(clock, 'no KPI')})": n
            for clock, n in self.per("clock").items()
        }
        return [
            Table("overdue per clock", per_clock, counted),
            Table("overdue per stage of the case", self.per("stage"), counted),
            Table("overdue per kind of department", self.per("unit_kind"), counted),
        ]

    def longest(self) -> list[OverdueClock]:
        """The most overdue first; ties in the order of the channel systems' numbers, so that
        every run lists the same cases."""
        ranked = sorted(self.clocks, key=lambda c: (-c.days_overdue, c.reference, c.clock))
        return ranked[:LISTED_OVERDUE]

    def lines(self, as_of: str) -> list[str]:
        late = ", ".join(f"{clock} {n}" for clock, n in sorted(self.met_late.items()))
        met_late = [f"met after their deadline (also against the KPIs): {late}"] if late else []
        if not self.clocks:
            return ["", f"overdue as of {as_of}: none", *met_late]
        listed = self.longest()
        return [
            "",
            f"overdue as of {as_of}: {plural(len(self.clocks), 'duty', 'duties')} past their "
            f"deadline on {plural(self.cases(), 'case')}, counted in the KPIs above",
            *met_late,
            *(line for table in self.tables() for line in table.lines()),
            "",
            f"the longest overdue ({len(listed)} of {len(self.clocks)}; case, source/number, "
            "clock, deadline, days overdue, stage, responsible unit):",
            *(c.line() for c in listed),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "clocks": len(self.clocks),
            "cases": self.cases(),
            "per_clock": self.per("clock"),
            "per_stage": self.per("stage"),
            "per_kind": self.per("unit_kind"),
            "tables": [table.as_dict() for table in self.tables()],
            "longest": [asdict(c) for c in self.longest()],
            "met_late": self.met_late,
        }


@dataclass(frozen=True)
class RejectedLine:
    """A line of the cases file the intake refused, with the contract's code and reason (which
    never echo a value of the message)."""

    line: int | None  # None: a rejection the demo cannot trace to a line
    code: str
    reason: str


@dataclass
class Escalated:
    """The ladders' work in the demo: steps by level, kind and district, and notifications."""

    steps: int = 0
    cases: int = 0
    per_level: dict[str, int] = field(default_factory=dict)
    per_step: dict[str, int] = field(default_factory=dict)
    per_district: dict[str, int] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=dict)  # "channel status" -> n

    def tables(self) -> list[Table]:
        steps = f"ladder steps on {plural(self.cases, 'case')}"
        return [
            Table("escalation steps per kind", self.per_step, steps),
            Table("escalation steps per level", self.per_level, steps),
            Table(
                "escalation steps per district or county",
                self.per_district,
                steps,
                limit=TOP_DISTRICTS,
                others="other districts",
            ),
            Table("notifications per channel and outcome", self.notifications, "notifications"),
        ]

    def lines(self) -> list[str]:
        if not self.steps:
            return ["", "escalation: no case missed a deadline far enough to climb a ladder"]
        sent = sum(n for key, n in self.notifications.items() if key.endswith(" sent"))
        return [
            "",
            f"escalation: {plural(self.steps, 'ladder step')} on {plural(self.cases, 'case')}; "
            f"{plural(sent, 'notification')} delivered to the demo's outbox",
            *(line for table in self.tables() for line in table.lines()),
        ]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"tables": [table.as_dict() for table in self.tables()]}


@dataclass
class DemoReport:
    source: str  # "the bundled sample" or the cases file
    total_lines: int  # non-blank lines, each published as one message
    seconds: float
    simulated_from: datetime | None = None  # the first receipt; None: no valid case
    simulated_until: datetime | None = None  # the simulated clock at the end: "now" below
    per_channel: dict[str, int] = field(default_factory=dict)
    per_stage: dict[str, int] = field(default_factory=dict)
    per_kind: dict[str, int] = field(default_factory=dict)
    per_department: dict[str, int] = field(default_factory=dict)
    per_rule: dict[str, int] = field(default_factory=dict)
    triage: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedLine] = field(default_factory=list)
    linked: dict[str, int] = field(default_factory=dict)  # joined an existing case, by kind
    events_published: int = 0
    median_dispatch_minutes: float = 0.0
    commands: dict[str, int] = field(default_factory=dict)  # applied / refused
    reviews_opened: int = 0
    kpis: Kpis | None = None
    overdue: Overdue = field(default_factory=Overdue)
    escalations: Escalated = field(default_factory=Escalated)
    kept: Path | None = None  # where the database was kept, if it was
    example_case: str | None = None  # a case worth `xinfang case show`

    @property
    def registered(self) -> int:
        return sum(self.per_channel.values())

    @property
    def duplicates(self) -> int:
        """Messages the intake knew already (the same source and external_id)."""
        joined = sum(self.linked.values())
        return self.total_lines - self.registered - joined - len(self.rejected)

    @property
    def assigned(self) -> int:
        return sum(self.per_kind.values())

    def as_of(self) -> str:
        return _local(self.simulated_until) if self.simulated_until else "—"

    def tables(self) -> list[Table]:
        registered = "cases registered"
        in_triage = sum(self.triage.values())
        awaiting = self.registered - self.assigned - in_triage
        unassigned = [f"{in_triage} in triage"] if in_triage else []
        if awaiting:  # none once the demo has settled, unless a role gave up
            unassigned.append(f"{awaiting} awaiting routing")
        not_assigned = ", ".join(unassigned)
        assigned = "cases assigned to a department"
        return [
            Table("cases per channel", self.per_channel, registered),
            Table("cases per stage", self.per_stage, registered),
            Table("cases per kind of department", self.per_kind, assigned, not_assigned),
            Table(
                "cases per department",
                self.per_department,
                assigned,
                not_assigned,
                limit=TOP_UNITS,
                others="other units",
            ),
            Table(
                "cases per rule",
                self.per_rule,
                registered,
                self._no_rule_note(),
                limit=TOP_RULES,
                others="other rules",
            ),
            Table(
                "in triage, per petition bureau",
                self.triage,
                "in triage, no rule could route them: each is assigned by hand",
            ),
        ]

    def _no_rule_note(self) -> str:
        unrouted = self.per_rule.get(NO_RULE, 0)
        return f"{unrouted} matched no rule and went to triage" if unrouted else ""

    def render(self) -> str:
        lines = [*self._summary(), *self._rejected_lines()]
        if self.registered:
            lines += [*self._kpi_lines(), *self.overdue.lines(self.as_of())]
            lines += [line for table in self.tables() for line in table.lines()]
            lines += self.escalations.lines()
        return "\n".join([*lines, "", *self._explore_lines()])

    def _summary(self) -> list[str]:
        joined = ", ".join(f"{kind} {n}" for kind, n in sorted(self.linked.items()))
        duplicates = f", {plural(self.duplicates, 'duplicate')}" if self.duplicates else ""
        lines = [
            f"xinfang demo: {self.total_lines} lines of {self.source} replayed through the real "
            f"pipeline — intake → routing → departments' commands → escalation — in "
            f"{self.seconds:.1f} s (embedded: SQLite, in-process broker)",
            f"messages {self.total_lines}: {self.registered} registered as cases, "
            f"{sum(self.linked.values())} joined existing cases"
            f"{f' ({joined})' if joined else ''}{duplicates}, {len(self.rejected)} rejected",
        ]
        if not self.registered:
            return [*lines, "no case to simulate: every line was rejected"]
        return [
            *lines,
            f"simulated clock: {_day(self.simulated_from)} → {self.as_of()} (Asia/Shanghai); "
            "every rate and overdue below is as of its end",
            f"events published {self.events_published}; median dispatch "
            f"{self.median_dispatch_minutes:.0f} simulated minutes; departments' commands applied "
            f"{self.commands.get('applied', 0)}, refused {self.commands.get('refused', 0)}; "
            f"reviews opened {self.reviews_opened}",
        ]

    def _rejected_lines(self) -> list[str]:
        if not self.rejected:
            return []
        listed = sorted(self.rejected, key=lambda r: (r.line is None, r.line or 0))
        more = len(listed) - LISTED_REJECTED
        width = max(len(r.code) for r in listed)
        return [
            "",
            f"rejected lines ({len(listed)} of {self.total_lines}: not a valid case by the "
            "contract, refused by the intake; line, reason code, reason):",
            *(
                f"  line {r.line if r.line is not None else '?':<4}  {r.code:<{width}}  {r.reason}"
                for r in listed[:LISTED_REJECTED]
            ),
            *([f"  … {more} more (all of them in --json)"] if more > 0 else []),
        ]

    def _kpi_lines(self) -> list[str]:
        if self.kpis is None:
            return []
        rows = []
        for name, (label, target) in KPI_TARGETS.items():
            ratio: Ratio = getattr(self.kpis, name)
            goal = f"target {target}: {mark(ratio, target)}" if target else "no target"
            rows.append(f"  {label:<24} {ratio!s:<22} {goal}")
        return ["", f"KPIs (five-in-one platform) as of {self.as_of()}:", *rows]

    def _explore_lines(self) -> list[str]:
        if self.kept is None:
            return [
                "the demo's database was deleted; `xinfang demo --keep xinfang-demo.db` keeps it "
                "to explore with `xinfang overdue` and `xinfang case show`"
            ]
        env = f"XINFANG_DATABASE_URL={shlex.quote(f'sqlite:///{self.kept}')}"
        end = _instant(self.simulated_until) if self.simulated_until else ""
        commands = [f"  {env} xinfang overdue" + (f" --now {end}" if end else "")]
        if self.example_case:
            commands.append(f"  {env} xinfang case show {self.example_case}")
        return [
            f"database kept at {self.kept}; the demo simulated up to {self.as_of()}, later "
            "commands count from today unless given --now; explore it with:",
            *commands,
        ]

    def as_dict(self) -> dict[str, Any]:
        """The same content as the text, for scripts."""
        return {
            "source": self.source,
            "total_lines": self.total_lines,
            "seconds": self.seconds,
            "simulated_from": _day(self.simulated_from) if self.simulated_from else None,
            "simulated_until": _day(self.simulated_until) if self.simulated_until else None,
            "as_of": _instant(self.simulated_until) if self.simulated_until else None,
            "cases": self.registered,
            "assigned": self.assigned,
            "linked": self.linked,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejected_lines": [asdict(r) for r in self.rejected],
            "events_published": self.events_published,
            "median_dispatch_minutes": self.median_dispatch_minutes,
            "commands": self.commands,
            "reviews_opened": self.reviews_opened,
            "kpis": kpi_entries(self.kpis) if self.kpis else None,
            "overdue": self.overdue.as_dict(),
            "per_channel": self.per_channel,
            "per_stage": self.per_stage,
            "per_kind": self.per_kind,
            "per_department": self.per_department,
            "per_rule": self.per_rule,
            "triage": self.triage,
            "tables": [table.as_dict() for table in self.tables()],
            "escalations": self.escalations.as_dict(),
            "kept": str(self.kept) if self.kept else None,
            "explore": [line.strip() for line in self._explore_lines()[1:]] if self.kept else [],
        }


NO_RULE = "(none: triage)"


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _day(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d}" if moment else "—"


def _instant(moment: datetime) -> str:
    """RFC 3339 in Chongqing's offset, as `--now` takes it."""
    return moment.astimezone(SHANGHAI).isoformat()
