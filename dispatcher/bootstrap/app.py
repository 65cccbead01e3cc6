"""The composition root: the one place that builds engine, brokers, rules, clock and metrics
from one Settings object and wires them into the roles. Nothing here runs at import."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import dramatiq
from kombu import Connection
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.db import console_store, ladder_store, public_status, schema, store
from dispatcher.adapters.files.calendar import china_calendar
from dispatcher.adapters.files.ladders import check_ruleset_ladders, ladder_source
from dispatcher.adapters.files.policies import available_policies, load_policy
from dispatcher.adapters.files.rules import RuleDecider, load_ruleset
from dispatcher.adapters.messaging.commands import commands_consumer
from dispatcher.adapters.messaging.connection import connect
from dispatcher.adapters.messaging.consumer import ReliableConsumer
from dispatcher.adapters.messaging.intake import intake_consumer
from dispatcher.adapters.messaging.publisher import CasePublisher
from dispatcher.adapters.messaging.relay import OutboxRelay
from dispatcher.adapters.notify.email import SmtpSender
from dispatcher.adapters.notify.webhook import WebhookSender
from dispatcher.adapters.passwords import Argon2Passwords
from dispatcher.bootstrap.clock import system_clock
from dispatcher.bootstrap.settings import Settings
from dispatcher.contract.sources import bind_sources
from dispatcher.domain.clock import Clock
from dispatcher.domain.ladders import Ladders
from dispatcher.domain.notifications import Channel
from dispatcher.domain.repeats import identity_key_bytes
from dispatcher.services.clock_index import ClockIndex
from dispatcher.services.console import ConsoleDesk
from dispatcher.services.escalation import Desk, Escalations, NotifyConfig
from dispatcher.services.intake import IntakeService
from dispatcher.services.lifecycle import CaseCommands
from dispatcher.services.linking import RepeatConfig
from dispatcher.services.notifications import Deliveries, Sender
from dispatcher.services.petitioner import PetitionerDesk
from dispatcher.services.producer_keys import ProducerKeys
from dispatcher.services.public_status import PublicStatuses
from dispatcher.services.routing import RoutingService
from monitoring.kpi import district_board
from monitoring.metrics import Metrics
from rules import OrgDirectory
from workers.actors import Actors, declare_actors
from workers.broker import actor_metrics, make_broker

WORKER_WAKE_MS = 250
COMMANDS_PREFETCH = 32  # commands are handled one at a time


@dataclass
class App:
    settings: Settings
    clock: Clock
    engine: Engine
    metrics: Metrics
    decider: RuleDecider
    intake: IntakeService
    routing: RoutingService
    commands: CaseCommands
    broker: dramatiq.Broker
    actors: Actors
    escalations: Escalations
    deliveries: Deliveries
    plan_version: str  # what the ladders' index is planned with (see Escalations.replan)
    petitioners: PetitionerDesk
    producer_keys: ProducerKeys
    public_statuses: PublicStatuses
    console: ConsoleDesk
    _connections: list[Connection] = field(default_factory=list)

    def connection(self, confirm_each: bool = True) -> Connection:
        """A new kombu connection to the configured broker (each role owns its own)."""
        connection = connect(self.settings.broker_url, confirm_each)
        self._connections.append(connection)
        return connection

    def intake_consumer(self) -> ReliableConsumer:
        settings = self.settings
        return intake_consumer(
            self.connection(),
            self.connection(),
            self.intake,
            self.actors.route.send,
            self.metrics,
            prefetch=max(settings.intake_prefetch, settings.intake_batch),
            batch=settings.intake_batch,
            batch_wait=settings.intake_batch_ms / 1000,
        )

    def commands_consumer(self) -> ReliableConsumer:
        return commands_consumer(
            self.connection(),
            self.connection(),
            self.commands,
            self.metrics,
            prefetch=min(self.settings.intake_prefetch, COMMANDS_PREFETCH),
        )

    def relay(self) -> OutboxRelay:
        relay = OutboxRelay(
            self.engine,
            self.connection(confirm_each=False),  # it waits once per batch
            self.clock,
            self.metrics,
            batch=self.settings.relay_batch,
            interval=self.settings.relay_interval_seconds,
        )
        wake_on_committed_events(self.engine, relay.wake)
        return relay

    def worker(self) -> dramatiq.Worker:
        # worker_timeout: how long a consumer waits for a message before it looks whether to
        # stop; dramatiq's 1 s default makes every stop take seconds.
        return dramatiq.Worker(
            self.broker,
            queues=self.actors.queues,
            worker_threads=self.settings.worker_threads,
            worker_timeout=WORKER_WAKE_MS,
        )

    def region_name(self, code: str) -> str | None:
        return self.decider.ruleset.directory.region_name(code)

    def session_secret(self) -> str:
        """The key of the console's session cookies: the setting, else the database's."""
        return self.settings.session_secret or _stored(self.engine, "session_secret")

    def publisher(self) -> CasePublisher:
        return CasePublisher(self.connection(confirm_each=False))

    def close(self) -> None:
        for connection in self._connections:
            connection.release()
        self.broker.close()
        self.engine.dispose()


def missing_sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (SQLite would create it empty)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    path = Path(url.database)
    return None if path.exists() else path


def require_database(database_url: str) -> None:
    """Refuse to work on a SQLite file that is not there, rather than leave an empty one."""
    missing = missing_sqlite_file(database_url)
    if missing is not None:
        raise schema.SchemaOutOfDate(
            f"there is no database at {missing}: run `xinfang db upgrade` to create it "
            "(or set XINFANG_DATABASE_URL)"
        )


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's record of each row a query returns (DEBUG on its engine's logger):
    a row of `cases` holds the petitioner, and hide_parameters hides only the values sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.endswith("Row %r"))


_NO_ROWS = _NoRows()


def make_engine(database_url: str) -> Engine:
    """hide_parameters: bound values (petitioners' details among them) never appear in the
    database errors that reach logs; nor do the rows read, whatever the log level."""
    logging.getLogger("sqlalchemy.engine.Engine").addFilter(_NO_ROWS)  # once: it is one filter
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # prepare_threshold=None: no server-side prepared statements. psycopg prepares a query after
    # five runs, and PostgreSQL may then keep a generic plan made while the tables were nearly
    # empty (sequential scans), so that every intake grew slower with the cases stored.
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        hide_parameters=True,
        connect_args={"prepare_threshold": None} if "+psycopg" in database_url else {},
    )


def wake_on_committed_events(engine: Engine, wake: Callable[[], None]) -> None:
    """Call `wake` whenever a connection of this process that appended events is back in the
    pool with its transaction committed, so that the relay publishes them at once instead of
    at its next look. (The commit event itself comes before the commit is visible.)"""

    def rolled_back(conn: Any) -> None:
        conn.info.pop(store.EVENTS_WRITTEN, None)

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(store.EVENTS_WRITTEN, False):
            wake()

    event.listen(engine, "rollback", rolled_back)
    event.listen(engine.pool, "checkin", checked_in)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets readers (reports, metrics) run beside the one writer.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def build(
    settings: Settings,
    clock: Clock = system_clock,
    metrics: Metrics | None = None,
    check_schema: bool = True,
) -> App:
    """Build every part from settings. Loads and validates rules and directory (a bad file stops
    start-up here) and refuses an out-of-date database schema."""
    if check_schema:
        require_database(settings.database_url)
    engine = make_engine(settings.database_url)
    if check_schema:
        schema.require_current(engine)
    metrics = metrics or Metrics()
    decider = RuleDecider(load_ruleset(settings.rules_path, settings.directory_path))

    def directory() -> OrgDirectory:  # the current rule set's: a reload may replace it
        return decider.ruleset.directory

    ladders = ladder_source(settings.ladders_path)
    files = check_ruleset_ladders(decider.ruleset, ladders, load_policy, available_policies())
    calendar = china_calendar(settings.calendar_override)
    clocks = ClockIndex(calendar, load_policy, store, ladders, directory)
    intake = IntakeService(
        engine,
        store,
        clock,
        metrics,
        clocks,
        repeat_config(settings, engine),
        sources=bind_sources(settings.source_users),
    )
    routing = RoutingService(engine, store, clock, metrics, decider, clocks)
    commands = CaseCommands(engine, store, clock, clocks, directory)
    escalations = Escalations(
        engine, store, ladder_store, clocks, directory, notify(settings), metrics=metrics
    )
    deliveries = Deliveries(
        engine,
        ladder_store,
        senders(settings, engine),
        clock,
        settings.notify_attempts,
        metrics=metrics,
    )
    broker = make_broker(settings.broker_url)
    metrics.adopt(actor_metrics(broker).collectors)
    actors = declare_actors(broker, routing, escalations, deliveries)
    version = plan_version(files, settings, decider)
    petitioners = PetitionerDesk(
        engine, store, clock, intake, commands, router(settings, routing, actors)
    )
    return App(
        settings,
        clock,
        engine,
        metrics,
        decider,
        intake,
        routing,
        commands,
        broker,
        actors,
        escalations,
        deliveries,
        version,
        petitioners,
        ProducerKeys(engine, store, clock),
        PublicStatuses(engine, public_status),
        ConsoleDesk(engine, console_store, clock, commands, Argon2Passwords(), district_board),
    )


def router(
    settings: Settings, routing: RoutingService, actors: Actors
) -> Callable[[Sequence[str]], object]:
    """How a case registered outside the intake consumer (over HTTP) reaches routing. Embedded,
    no worker of another process reads this process's in-memory broker: it is routed here and
    now, as `xinfang publish` does (bootstrap/direct_intake.py); else enqueued for the workers."""
    if settings.embedded:
        return routing.route_many
    return lambda case_ids: actors.route.send(*case_ids)


def notify(settings: Settings) -> NotifyConfig:
    desks = []
    if settings.notify_webhook:
        desks.append(Desk(Channel.WEBHOOK, settings.notify_webhook))
    if settings.notify_email:
        desks.append(Desk(Channel.EMAIL, settings.notify_email))
    return NotifyConfig(email=settings.smtp_url is not None, desks=tuple(desks))


def senders(settings: Settings, engine: Engine) -> dict[Channel, Sender]:
    found: dict[Channel, Sender] = {
        Channel.WEBHOOK: WebhookSender(settings.webhook_secret or _stored(engine, "webhook_secret"))
    }
    if settings.smtp_url:
        found[Channel.EMAIL] = SmtpSender(settings.smtp_url, settings.mail_from)
    return found


def plan_version(files: tuple[Ladders, ...], settings: Settings, decider: RuleDecider) -> str:
    """A digest of everything a ladder's plan depends on besides the case's own history."""
    digest = hashlib.sha256()
    for ladders in files:
        digest.update(f"{ladders.policy}:{ladders.digest}\n".encode())
    for policy_id in sorted({ladders.policy for ladders in files}):
        digest.update(repr(load_policy(policy_id)).encode())
    override = settings.calendar_override
    digest.update(override.read_bytes() if override and override.is_file() else b"-")
    digest.update(decider.ruleset.directory.digest.encode())
    return digest.hexdigest()[:32]


def repeat_config(settings: Settings, engine: Engine) -> RepeatConfig:
    """Windows from settings; the identity key from XINFANG_IDENTITY_KEY, else the random one
    migration 0003 stored in the database (read once, here, never logged)."""
    return RepeatConfig(
        identity_key_bytes(settings.identity_key or _stored_identity_key(engine)),
        timedelta(days=settings.repeat_window_days),
        timedelta(days=settings.collective_window_days),
    )


def _stored(engine: Engine, name: str) -> str:
    try:
        with engine.connect() as conn:
            value = store.read_secret(conn, name)
    except SQLAlchemyError:
        value = None
    if not value:
        raise schema.SchemaOutOfDate(
            f"database {engine.url.render_as_string(hide_password=True)} holds no {name} "
            "(table secrets): run `xinfang db upgrade`"
        )
    return value


def _stored_identity_key(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            key = store.read_secret(conn, "identity_key")
    except SQLAlchemyError:
        key = None
    if not key:
        raise schema.SchemaOutOfDate(
            f"XINFANG_IDENTITY_KEY is not set and database "
            f"{engine.url.render_as_string(hide_password=True)} holds no identity key (table "
            "secrets, made by migration 0003): run `xinfang db upgrade` or set the variable"
        )
    return key
