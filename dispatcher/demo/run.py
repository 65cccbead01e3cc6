"""`xinfang demo`: the real pipeline, embedded, over the bundled sample, on a simulated clock.

Cases are published hour by hour of their receipt time; the simulated clock stands at that
hour while the intake consumer, the dramatiq workers and the outbox relay (the same objects
`xinfang run` uses) process them, so dispatch latencies are those of a live office.
"""

from __future__ import annotations

import json
import tempfile
import time as timer
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dispatcher.adapters.db import ladder_store, schema
from dispatcher.adapters.db.tables import case_links, cases, commands, events, rejected_messages
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.publisher import CasePublisher
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.bootstrap.app import App, build
from dispatcher.bootstrap.roles import ROLES, RunningRoles
from dispatcher.bootstrap.settings import Settings
from dispatcher.demo import departments
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.notifications import Channel
from dispatcher.services.escalation import Taken
from dispatcher.services.notifications import Deliveries
from monitoring.kpi import Kpis, compute_kpis

PROCESSING_DELAY = timedelta(minutes=7)  # the simulated office works a batch within minutes
DEADLINE_SECONDS = 110.0  # a guard against a stuck role, far above a normal run


def sample_path() -> Path:
    return Path(str(resources.files("dispatcher.demo") / "data" / "sample-cases.jsonl"))


@dataclass
class DemoReport:
    total_lines: int
    seconds: float
    per_channel: dict[str, int] = field(default_factory=dict)
    per_stage: dict[str, int] = field(default_factory=dict)
    per_department: dict[str, int] = field(default_factory=dict)
    per_rule: dict[str, int] = field(default_factory=dict)
    triage: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    linked: dict[str, int] = field(default_factory=dict)  # joined an existing case, by kind
    events_published: int = 0
    median_dispatch_minutes: float = 0.0
    per_kind: dict[str, int] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)  # applied / refused
    reviews_opened: int = 0
    kpis: Kpis | None = None
    simulated_until: str = ""
    escalations: Escalated | None = None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {
            "cases": sum(self.per_channel.values()),
            "kpis": self.kpis.as_dict() if self.kpis else None,
            "escalations": self.escalations.__dict__ if self.escalations else None,
        }

    def render(self) -> str:
        lines = [
            f"xinfang demo: {self.total_lines} messages replayed through intake → routing → "
            f"events in {self.seconds:.1f} s (embedded: SQLite, in-process broker)",
            f"cases registered {sum(self.per_channel.values())}, "
            f"joined existing cases {_kinds(self.linked)}, rejected {self.rejected}, "
            f"events published {self.events_published}, "
            f"median dispatch {self.median_dispatch_minutes:.0f} simulated minutes",
            f"departments' commands applied {self.commands.get('applied', 0)}, refused "
            f"{self.commands.get('refused', 0)}; reviews opened {self.reviews_opened}; "
            f"simulated until {self.simulated_until}",
            "",
            *self._kpi_lines(),
            "",
            *_table("cases per channel", self.per_channel),
            "",
            *_table("cases per stage", self.per_stage),
            "",
            *_table("cases per kind of department", self.per_kind),
            "",
            *_table("cases per department", self.per_department, limit=15),
            "",
            *_table("cases per rule", self.per_rule, limit=25),
            "",
            *_table("in triage, per petition bureau", self.triage, limit=15),
            *(self.escalations.lines() if self.escalations else []),
        ]
        return "\n".join(lines)

    def _kpi_lines(self) -> list[str]:
        if self.kpis is None:
            return []
        k = self.kpis
        return [
            "KPIs (five-in-one platform):",
            f"  timely acceptance rate   {k.timely_acceptance}   target ≥ 99.5 %",
            f"  on-time completion rate  {k.on_time_completion}   target ≥ 99.5 %",
            f"  online share             {k.online_share}   target > 70 %",
            f"  satisfaction rate        {k.satisfaction}",
        ]


@dataclass
class Escalated:
    """The ladders' work in the demo: steps by level, kind and district, and notifications."""

    steps: int = 0
    cases: int = 0
    per_level: dict[str, int] = field(default_factory=dict)
    per_step: dict[str, int] = field(default_factory=dict)
    per_district: dict[str, int] = field(default_factory=dict)
    notifications: dict[str, int] = field(default_factory=dict)  # "channel status" -> n

    def lines(self) -> list[str]:
        sent = sum(n for key, n in self.notifications.items() if key.endswith(" sent"))
        return [
            "",
            f"escalation: {self.steps} ladder step(s) on {self.cases} case(s); "
            f"{sent} notification(s) delivered to the demo's outbox",
            "",
            *_table("escalation steps per kind", self.per_step),
            "",
            *_table("escalation steps per level", self.per_level),
            "",
            *_table("escalation steps per district or county", self.per_district, limit=15),
            "",
            *_table("notifications per channel and outcome", self.notifications),
        ]


def _escalation_report(app: App, outbox: Outbox) -> Escalated:
    directory = app.decider.ruleset.directory
    with app.engine.connect() as conn:
        regions = dict(conn.execute(select(cases.c.case_id, cases.c.region)).all())
        counted = ladder_store.count_notifications(conn)

    def district(case_id: str) -> str:
        code = directory.ancestor_at(regions.get(case_id, ""), "district") or "?"
        return directory.region_name(code) or code

    return Escalated(
        steps=len(outbox.taken),
        cases=len({t.case_id for t in outbox.taken}),
        per_level=dict(Counter(t.level for t in outbox.taken)),
        per_step=dict(Counter(t.kind.chinese for t in outbox.taken)),
        per_district=dict(Counter(district(t.case_id) for t in outbox.taken)),
        notifications={f"{channel} {status}": n for (channel, status), n in counted.items()},
    )


def _kinds(counts: dict[str, int]) -> str:
    detail = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    return f"{sum(counts.values())}" + (f" ({detail})" if detail else "")


def _table(title: str, counts: dict[str, int], limit: int | None = None) -> list[str]:
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = rows[:limit] if limit else rows
    total = sum(counts.values()) or 1
    width = max((_width(key) for key, _ in shown), default=0)
    out = [f"{title}:"]
    out += [
        f"  {key}{' ' * (width - _width(key))}  {n:>5}  {100 * n / total:5.1f} %"
        for key, n in shown
    ]
    if len(rows) > len(shown):
        out.append(f"  … {len(rows) - len(shown)} more, {sum(n for _, n in rows[limit:])} cases")
    return out


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def run_demo(cases_file: Path | None = None, workdir: Path | None = None) -> DemoReport:
    lines = (cases_file or sample_path()).read_text("utf-8").splitlines()
    with tempfile.TemporaryDirectory(prefix="xinfang-demo-") as tmp:
        database = (workdir or Path(tmp)) / "demo.db"
        settings = Settings(
            broker_url=None,
            database_url=f"sqlite:///{database}",
            rules_path=None,
            directory_path=None,
            relay_interval_seconds=0.05,
            smtp_url="smtp://demo.invalid",  # e-mails go to the demo's outbox, not skipped
        )
        started = timer.monotonic()
        first = _received_at(lines[0]) if lines else datetime.now().astimezone()
        clock = FixedClock(first)
        app = _build_fresh(settings, clock)
        outbox = Outbox()
        # The demo sweeps the ladders itself at each simulated midnight, in place of the
        # scheduler role, whose jobs run on real minutes.
        running = RunningRoles(app).start(set(ROLES) - {"scheduler"})
        try:
            running.wait_ready()
            _replay(app, clock, lines, started)
            _simulate_departments(app, clock, started, outbox)
        finally:
            running.stop()
        report = _report(app, clock, len(lines), timer.monotonic() - started)
        report.escalations = _escalation_report(app, outbox)
        app.close()
        return report


def _build_fresh(settings: Settings, clock: FixedClock) -> App:
    from dispatcher.bootstrap.app import make_engine

    schema.upgrade(make_engine(settings.database_url))
    return build(settings, clock=clock)


def _replay(app: App, clock: FixedClock, lines: list[str], started: float) -> None:
    publisher = app.publisher()
    sent = 0
    timed = sorted(
        ((line, _received_at(line)) for line in lines if line.strip()), key=lambda item: item[1]
    )
    for _, group in groupby(timed, key=lambda item: _hour(item[1])):
        batch = list(group)
        clock.now = max(clock.now, batch[-1][1] + PROCESSING_DELAY)
        for line, _ in batch:
            publisher.publish_body(line.encode("utf-8"), _routing_key(line))
        sent += len(batch)
        _wait_until_settled(app, sent, started)


def _received_at(line: str) -> datetime:
    try:
        return datetime.fromisoformat(json.loads(line)["received_at"])
    except (ValueError, KeyError, TypeError):
        return datetime.now().astimezone()


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _routing_key(line: str) -> str:
    try:
        return f"case.{json.loads(line)['channel']}"
    except (ValueError, KeyError, TypeError):
        return "case.unknown"


_INTAKE_OUTCOMES = (
    "xinfang_cases_received",
    "xinfang_cases_rejected",
    "xinfang_cases_duplicate",
    "xinfang_cases_linked",
)


def _intake_handled(app: App) -> float:
    """Messages the intake consumer has finished with, from its own counters."""
    return sum(
        sample.value
        for metric in app.metrics.registry.collect()
        if metric.name in _INTAKE_OUTCOMES
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def _wait_until_settled(app: App, sent: int, started: float) -> None:
    """Until the intake has handled every message sent, no case waits for routing and the
    outbox is empty. The work is real and concurrent, so this watches it rather than the clock;
    it gives up at the demo's deadline."""
    while timer.monotonic() - started < DEADLINE_SECONDS:
        if _intake_handled(app) >= sent:
            with app.engine.connect() as conn:
                waiting = conn.scalar(
                    select(func.count()).select_from(cases).where(cases.c.stage == "registered")
                )
                unpublished = conn.scalar(
                    select(func.count()).select_from(events).where(events.c.published_at.is_(None))
                )
            if waiting == 0 and unpublished == 0:
                return
        timer.sleep(0.005)


def _simulate_departments(app: App, clock: FixedClock, started: float, outbox: Outbox) -> None:
    """Phase two: departments act on the routed cases by commands on xinfang.commands, day by
    day, then the bodies that received review requests reply to them. Every simulated
    midnight the escalation sweep runs, as `xinfang sweep` would: the departments that miss
    their deadlines climb the ladders."""
    publisher = CasePublisher(app.connection(), topology.COMMANDS_EXCHANGE)
    sent = 0
    for planner in (departments.plan, departments.plan_reviews):
        with app.engine.connect() as conn:
            steps = sorted(planner(conn), key=lambda step: step.at)
        for midnight, todays in _days(steps):
            outbox.sweep(app, midnight)
            clock.now = max(clock.now, midnight + timedelta(days=1) - timedelta(seconds=1))
            for step in todays:
                sent += 1
                body = json.dumps(step.command(sent), ensure_ascii=False).encode("utf-8")
                publisher.publish_body(body, topology.command_routing_key(step.action))
            _wait_for_commands(app, sent, started)
    clock.now += timedelta(days=1)
    outbox.sweep(app, clock.now)
    _wait_for_commands(app, sent, started, relayed=True)


def _days(steps: list[departments.Planned]) -> Iterator[tuple[datetime, list[departments.Planned]]]:
    """Every simulated day from the first command to the last, with that day's commands."""
    if not steps:
        return
    by_day: dict[date, list[departments.Planned]] = defaultdict(list)
    for step in steps:
        by_day[step.at.astimezone(SHANGHAI).date()].append(step)
    day, last = min(by_day), max(by_day)
    while day <= last:
        yield datetime.combine(day, time(0), tzinfo=SHANGHAI), by_day.get(day, [])
        day += timedelta(days=1)


@dataclass
class Outbox:
    """Where the demo's notifications go: the senders' in-memory twin (the bundled directory's
    addresses are examples), counted for the report."""

    sender: MemorySender = field(default_factory=MemorySender)
    taken: list[Taken] = field(default_factory=list)

    def sweep(self, app: App, moment: datetime) -> None:
        self.taken += app.escalations.sweep(moment)
        senders = {Channel.EMAIL: self.sender, Channel.WEBHOOK: self.sender}
        Deliveries(app.engine, ladder_store, senders, lambda: moment).deliver_due(moment)


def _wait_for_commands(app: App, sent: int, started: float, relayed: bool = False) -> None:
    """Until every command sent is applied (and, if `relayed`, every event published)."""
    while timer.monotonic() - started < DEADLINE_SECONDS:
        with app.engine.connect() as conn:
            done = conn.scalar(select(func.count()).select_from(commands))
            unpublished = conn.scalar(
                select(func.count()).select_from(events).where(events.c.published_at.is_(None))
            )
        if (done or 0) >= sent and (unpublished == 0 or not relayed):
            return
        timer.sleep(0.005)


def _report(app: App, clock: FixedClock, total_lines: int, seconds: float) -> DemoReport:
    with app.engine.connect() as conn:
        rows = conn.execute(
            select(
                cases.c.channel,
                cases.c.stage,
                cases.c.org_unit_name,
                cases.c.org_kind,
                cases.c.rule_id,
                cases.c.received_at,
                cases.c.assigned_at,
            ).where(cases.c.kind == "original")
        ).all()
        outcomes: dict[str, int] = dict(
            conn.execute(
                select(commands.c.outcome, func.count()).group_by(commands.c.outcome)
            ).all()
        )
        reviews = (
            conn.scalar(select(func.count()).select_from(cases).where(cases.c.kind != "original"))
            or 0
        )
        kpis = compute_kpis(conn, clock.now)
        rejected = conn.scalar(select(func.count()).select_from(rejected_messages)) or 0
        linked: dict[str, int] = dict(
            conn.execute(select(case_links.c.kind, func.count()).group_by(case_links.c.kind)).all()
        )
        published = (
            conn.scalar(
                select(func.count()).select_from(events).where(events.c.published_at.is_not(None))
            )
            or 0
        )
    minutes = sorted(
        (row.assigned_at - row.received_at).total_seconds() / 60 for row in rows if row.assigned_at
    )
    return DemoReport(
        total_lines=total_lines,
        seconds=seconds,
        per_channel=dict(Counter(row.channel for row in rows)),
        per_stage=dict(Counter(row.stage for row in rows)),
        per_department=dict(Counter(row.org_unit_name for row in rows if row.rule_id)),
        per_kind=dict(Counter(row.org_kind for row in rows if row.rule_id)),
        commands={str(k): int(n) for k, n in outcomes.items()},
        reviews_opened=reviews,
        kpis=kpis,
        simulated_until=clock.now.astimezone().strftime("%Y-%m-%d"),
        per_rule=dict(Counter(row.rule_id or "(none: triage)" for row in rows)),
        triage=dict(Counter(row.org_unit_name for row in rows if not row.rule_id)),
        rejected=rejected,
        linked={str(k): int(n) for k, n in linked.items()},
        events_published=published,
        median_dispatch_minutes=minutes[len(minutes) // 2] if minutes else 0.0,
    )
