"""`xinfang demo`: the real pipeline, embedded, over the bundled sample, on a simulated clock.

Cases are published hour by hour of their receipt time; the simulated clock stands at that
hour while the intake consumer, the dramatiq workers and the outbox relay (the same objects
`xinfang run` uses) process them, so dispatch latencies are those of a live office.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from dispatcher.app import App, build
from dispatcher.clock import FixedClock
from dispatcher.db import schema
from dispatcher.db.tables import case_links, cases, events, rejected_messages
from dispatcher.roles import ROLES, RunningRoles
from dispatcher.settings import Settings

PROCESSING_DELAY = timedelta(minutes=7)  # the simulated office works a batch within minutes
DEADLINE_SECONDS = 55.0


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

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__ | {"cases": sum(self.per_channel.values())}

    def render(self) -> str:
        lines = [
            f"xinfang demo: {self.total_lines} messages replayed through intake → routing → "
            f"events in {self.seconds:.1f} s (embedded: SQLite, in-process broker)",
            f"cases registered {sum(self.per_channel.values())}, "
            f"joined existing cases {_kinds(self.linked)}, rejected {self.rejected}, "
            f"events published {self.events_published}, "
            f"median dispatch {self.median_dispatch_minutes:.0f} simulated minutes",
            "", *_table("cases per channel", self.per_channel),
            "", *_table("cases per stage", self.per_stage),
            "", *_table("cases per department", self.per_department, limit=25),
            "", *_table("cases per rule", self.per_rule, limit=25),
            "", *_table("in triage, per petition bureau", self.triage, limit=15),
        ]
        return "\n".join(lines)


def _kinds(counts: dict[str, int]) -> str:
    detail = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    return f"{sum(counts.values())}" + (f" ({detail})" if detail else "")


def _table(title: str, counts: dict[str, int], limit: int | None = None) -> list[str]:
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = rows[:limit] if limit else rows
    total = sum(counts.values()) or 1
    width = max((len(key) for key, _ in shown), default=0)
    out = [f"{title}:"]
    out += [f"  {key:<{width}}  {n:>5}  {100 * n / total:5.1f} %" for key, n in shown]
    if len(rows) > len(shown):
        out.append(f"  … {len(rows) - len(shown)} more, {sum(n for _, n in rows[limit:])} cases")
    return out


def run_demo(cases_file: Path | None = None, workdir: Path | None = None) -> DemoReport:
    lines = (cases_file or sample_path()).read_text("utf-8").splitlines()
    with tempfile.TemporaryDirectory(prefix="xinfang-demo-") as tmp:
        database = (workdir or Path(tmp)) / "demo.db"
        settings = Settings(broker_url=None, database_url=f"sqlite:///{database}",
                            rules_path=None, directory_path=None, relay_interval_seconds=0.05)
        started = time.monotonic()
        first = _received_at(lines[0]) if lines else datetime.now().astimezone()
        clock = FixedClock(first)
        app = _build_fresh(settings, clock)
        running = RunningRoles(app).start(set(ROLES))
        try:
            running.wait_ready()
            _replay(app, clock, lines, started)
        finally:
            running.stop()
        report = _report(app, len(lines), time.monotonic() - started)
        app.close()
        return report


def _build_fresh(settings: Settings, clock: FixedClock) -> App:
    from dispatcher.app import make_engine

    schema.upgrade(make_engine(settings.database_url))
    return build(settings, clock=clock)


def _replay(app: App, clock: FixedClock, lines: list[str], started: float) -> None:
    publisher = app.publisher()
    sent = 0
    timed = sorted(((line, _received_at(line)) for line in lines if line.strip()),
                   key=lambda item: item[1])
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


_INTAKE_OUTCOMES = ("xinfang_cases_received", "xinfang_cases_rejected", "xinfang_cases_duplicate",
                    "xinfang_cases_linked")


def _intake_handled(app: App) -> float:
    """Messages the intake consumer has finished with, from its own counters."""
    return sum(
        sample.value
        for metric in app.metrics.registry.collect() if metric.name in _INTAKE_OUTCOMES
        for sample in metric.samples if sample.name.endswith("_total")
    )


def _wait_until_settled(app: App, sent: int, started: float) -> None:
    """Until the intake has handled every message sent, no case waits for routing and the
    outbox is empty. The work is real and concurrent, so this watches it rather than the clock;
    it gives up at the demo's deadline."""
    while time.monotonic() - started < DEADLINE_SECONDS:
        if _intake_handled(app) >= sent:
            with app.engine.connect() as conn:
                waiting = conn.scalar(
                    select(func.count()).select_from(cases).where(cases.c.stage == "registered"))
                unpublished = conn.scalar(select(func.count()).select_from(events)
                                          .where(events.c.published_at.is_(None)))
            if waiting == 0 and unpublished == 0:
                return
        time.sleep(0.005)


def _report(app: App, total_lines: int, seconds: float) -> DemoReport:
    with app.engine.connect() as conn:
        rows = conn.execute(select(
            cases.c.channel, cases.c.stage, cases.c.org_unit_name, cases.c.rule_id,
            cases.c.received_at, cases.c.assigned_at)).all()
        rejected = conn.scalar(select(func.count()).select_from(rejected_messages)) or 0
        linked = dict(conn.execute(
            select(case_links.c.kind, func.count()).group_by(case_links.c.kind)).all())
        published = conn.scalar(select(func.count()).select_from(events)
                                .where(events.c.published_at.is_not(None))) or 0
    minutes = sorted((row.assigned_at - row.received_at).total_seconds() / 60
                     for row in rows if row.assigned_at)
    return DemoReport(
        total_lines=total_lines, seconds=seconds,
        per_channel=dict(Counter(row.channel for row in rows)),
        per_stage=dict(Counter(row.stage for row in rows)),
        per_department=dict(Counter(row.org_unit_name for row in rows if row.stage == "assigned")),
        per_rule=dict(Counter(row.rule_id or "(none: triage)" for row in rows)),
        triage=dict(Counter(row.org_unit_name for row in rows if row.stage == "triage")),
        rejected=rejected, linked={str(k): int(n) for k, n in linked.items()},
        events_published=published,
        median_dispatch_minutes=minutes[len(minutes) // 2] if minutes else 0.0,
    )
