"""`xinfang demo`: the real pipeline, embedded, over the bundled sample, on a simulated clock.

Cases are published hour by hour of their receipt time; the simulated clock stands at that
hour while the intake consumer, the dramatiq workers and the outbox relay (the same objects
`xinfang run` uses) process them, so dispatch latencies are those of a live office. Then the
simulated departments act day by day, and the escalation sweep runs every simulated midnight.
The simulated clock moves only with the data (receipts, planned commands), never with the
time the run takes, so the same cases always end on the same day.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time as timer
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select
from tqdm import tqdm

from dispatcher.adapters.db import ladder_store, schema
from dispatcher.adapters.db.tables import cases, commands, events
from dispatcher.adapters.messaging import topology
from dispatcher.adapters.messaging.publisher import CasePublisher
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.bootstrap.app import App, build, make_engine
from dispatcher.bootstrap.roles import ROLES, RunningRoles
from dispatcher.bootstrap.settings import Settings
from dispatcher.demo import departments, findings
from dispatcher.demo.cases_file import CaseLine, first_receipt, read_lines
from dispatcher.demo.report import DemoReport
from dispatcher.domain.clock import FixedClock
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.notifications import Channel
from dispatcher.services.escalation import Taken
from dispatcher.services.notifications import Deliveries

PROCESSING_DELAY = timedelta(minutes=7)  # the simulated office works a batch within minutes
DEADLINE_SECONDS = 110.0  # a guard against a stuck role, far above a normal run


class Progress(Protocol):
    """What the demo asks of a progress bar (tqdm's interface)."""

    def update(self, n: float = 1) -> bool | None: ...

    def close(self) -> None: ...


ProgressBars = Callable[[str, int, str], Progress]  # (description, total, unit) -> a bar


def terminal_bars(description: str, total: int, unit: str) -> Progress:
    """A bar on stderr, drawn only when stderr is a terminal (disable=None) and erased when
    done, so that neither a pipe nor the report on stdout ever sees it."""
    return tqdm(
        total=total, desc=description, unit=unit, file=sys.stderr, disable=None, leave=False
    )


def sample_path() -> Path:
    return Path(str(resources.files("dispatcher.demo") / "data" / "sample-cases.jsonl"))


def run_demo(
    cases_file: Path | None = None,
    keep: Path | None = None,
    progress: ProgressBars = terminal_bars,
) -> DemoReport:
    """Replay the cases (the bundled sample by default) and report. The database is a fresh
    file, upgraded like any xinfang database: at `keep` if given (which must not exist yet),
    else in a temporary directory removed afterwards."""
    if keep is not None and keep.exists():  # never upgraded, and then removed on a failure
        raise FileExistsError(f"{keep} exists: the demo keeps only a database it made")
    lines = read_lines(cases_file or sample_path())
    source = str(cases_file) if cases_file else "the bundled sample"
    with tempfile.TemporaryDirectory(prefix="xinfang-demo-") as tmp:
        database = keep or Path(tmp) / "demo.db"
        try:
            return _run(lines, source, database, progress, kept=keep)
        except BaseException:
            if keep is not None:  # no half-made database left where a kept one is expected
                _remove_sqlite(keep)
            raise


def _run(
    lines: Sequence[CaseLine],
    source: str,
    database: Path,
    progress: ProgressBars,
    kept: Path | None,
) -> DemoReport:
    settings = demo_settings(database)
    started = timer.monotonic()
    first = first_receipt(lines)
    # Only a file without one valid case starts at the real time: it has nothing to simulate.
    clock = FixedClock(first or datetime.now(SHANGHAI))
    app = _build_fresh(settings, clock)
    outbox = Outbox()
    try:
        # The demo sweeps the ladders itself at each simulated midnight, in place of the
        # scheduler role, whose jobs run on real minutes.
        running = RunningRoles(app).start(set(ROLES) - {"scheduler"})
        try:
            running.wait_ready()
            _replay(app, clock, lines, started, progress)
            _simulate_departments(app, clock, started, outbox, progress)
        finally:
            running.stop()
        run = findings.Run(
            source, lines, outbox.taken, timer.monotonic() - started, first, clock.now, kept
        )
        return findings.collect(app, run)
    finally:
        app.close()


def demo_settings(database: Path) -> Settings:
    """The demo's own settings, whatever the environment says: embedded, on `database`, with
    the bundled rules and directory."""
    return Settings(
        broker_url=None,
        database_url=f"sqlite:///{database}",
        rules_path=None,
        directory_path=None,
        relay_interval_seconds=0.05,
        smtp_url="smtp://demo.invalid",  # e-mails go to the demo's outbox, not skipped
    )


def _build_fresh(settings: Settings, clock: FixedClock) -> App:
    engine = make_engine(settings.database_url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()
    return build(settings, clock=clock)


def _remove_sqlite(database: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)


def _replay(
    app: App,
    clock: FixedClock,
    lines: Sequence[CaseLine],
    started: float,
    progress: ProgressBars,
) -> None:
    """Every line, in order of receipt, an hour's batch at a time. A line that is not a valid
    case has no receipt to place it by: it goes with the first batch, for the intake to
    reject."""
    publisher = app.publisher()
    start = clock.now

    def received(line: CaseLine) -> datetime:
        return line.received_at or start

    bar = progress("intake", len(lines), "msg")
    sent = 0
    try:
        timed = sorted(lines, key=lambda line: (received(line), line.number))
        for _, group in groupby(timed, key=lambda line: _hour(received(line))):
            batch = list(group)
            clock.now = max(clock.now, received(batch[-1]) + PROCESSING_DELAY)
            for line in batch:
                publisher.publish_body(line.body, line.routing_key)
            sent += len(batch)
            _wait_until_settled(app, sent, started)
            bar.update(len(batch))
    finally:
        bar.close()


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


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


def _simulate_departments(
    app: App, clock: FixedClock, started: float, outbox: Outbox, progress: ProgressBars
) -> None:
    """Phase two: departments act on the routed cases by commands on xinfang.commands, day by
    day, then the bodies that received review requests reply to them. Every simulated
    midnight the escalation sweep runs, as `xinfang sweep` would: the departments that miss
    their deadlines climb the ladders."""
    publisher = CasePublisher(app.connection(), topology.COMMANDS_EXCHANGE)
    sent = 0
    phases = (("departments", departments.plan), ("reviews", departments.plan_reviews))
    for description, planner in phases:
        with app.engine.connect() as conn:
            steps = sorted(planner(conn), key=lambda step: step.at)
        bar = progress(description, len(steps), "cmd")
        try:
            for midnight, todays in _days(steps):
                outbox.sweep(app, midnight)
                clock.now = max(clock.now, midnight + timedelta(days=1) - timedelta(seconds=1))
                for step in todays:
                    sent += 1
                    body = json.dumps(step.command(sent), ensure_ascii=False).encode("utf-8")
                    publisher.publish_body(body, topology.command_routing_key(step.action))
                _wait_for_commands(app, sent, started)
                bar.update(len(todays))
        finally:
            bar.close()
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
        Deliveries(
            app.engine, ladder_store, senders, lambda: moment, metrics=app.metrics
        ).deliver_due(moment)


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
