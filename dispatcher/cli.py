"""The `xinfang` command line. Bad arguments get one line on stderr and exit code 2."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import click

from dispatcher.settings import Settings, SettingsError

log = logging.getLogger("xinfang")


class StartupError(click.ClickException):
    """A problem with configuration, rules or schema: one clear line, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"xinfang: {self.format_message()}", err=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise StartupError(str(error)) from None


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s",
    )
    for chatty in ("alembic",):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    # A lost connection is told once by the role that waits it out (dispatcher.outage) and by
    # dramatiq's consumer; kombu's and pika's own tracebacks of the same loss are noise.
    for quiet in ("pika", "kombu.mixins"):
        logging.getLogger(quiet).setLevel(max(logging.CRITICAL, logging.root.level))


def _build(settings: Settings) -> Any:
    from dispatcher.app import build
    from dispatcher.db.schema import SchemaOutOfDate
    from rules import RulesError

    try:
        return build(settings)
    except (SchemaOutOfDate, RulesError) as error:
        raise StartupError(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xinfang")
def cli() -> None:
    """xinfang: dispatch petitions (信访) to the responsible department, escalate the overdue.

    Configuration comes from the environment: XINFANG_BROKER_URL (absent: in-process broker),
    XINFANG_DATABASE_URL (absent: sqlite:///xinfang.db), XINFANG_RULES, XINFANG_DIRECTORY.
    """


def _run_roles(roles: set[str], kpis: bool = False) -> None:
    """Run roles until SIGTERM/SIGINT, or until one of them ends unasked (then exit 1 with
    the reason, so that the supervisor restarts the process). With XINFANG_METRICS_PORT,
    serve this process's counters and its /healthz and /readyz probes there, and with `kpis`
    also the system's KPIs and clocks read from the database (one process per deployment
    should: `xinfang run` or `xinfang metrics`)."""
    from dispatcher.roles import RunningRoles

    settings = _settings()
    _configure_logging(settings)
    app = _build(settings)
    running = RunningRoles(app)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: running.halted.set())
    if settings.metrics_port:
        _serve_metrics(app, running, settings.metrics_port, kpis)
    running.start(roles)
    mode = "embedded" if settings.embedded else "distributed"
    log.info("xinfang running (%s): %s", mode, ", ".join(sorted(roles)))
    while not running.halted.wait(SUPERVISE_EVERY_SECONDS) and running.failure() is None:
        pass
    failure = running.failure()
    log.info("stopping: draining in-flight work")
    running.stop()
    app.close()
    if failure is not None:
        raise RoleFailed(failure)


SUPERVISE_EVERY_SECONDS = 1.0


class RoleFailed(click.ClickException):
    """A role ended while nobody asked it to: one line, exit code 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"xinfang: {self.format_message()}", err=True)


def _serve_metrics(app: Any, running: Any, port: int, kpis: bool) -> None:
    from dispatcher import health
    from monitoring.collector import KpiCollector

    if kpis:
        app.metrics.registry.register(KpiCollector(app.engine, app.clock))
    health.serve(
        port, app.metrics.registry,
        live=lambda: health.liveness(running.status(), running.failure()),
        ready=lambda: health.readiness(running.status(), running.failure(),
                                       health.database_state(app.engine)))


@cli.command()
@click.option("--roles", default="intake,commands,worker,relay,scheduler", show_default=True,
              help="Comma-separated roles to run in this process.")
def run(roles: str) -> None:
    """Run every role in one process (embedded by default; RabbitMQ/PostgreSQL when set)."""
    from dispatcher.roles import ROLES

    chosen = {role.strip() for role in roles.split(",") if role.strip()}
    unknown = chosen - set(ROLES)
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown role(s) {', '.join(sorted(unknown)) or '(none given)'}; "
            f"choose from {', '.join(ROLES)}", param_hint="--roles")
    _run_roles(chosen, kpis=True)


@cli.command()
def intake() -> None:
    """Run the intake consumer: validate, register, enqueue routing."""
    _run_roles({"intake"})


@cli.command()
def commands() -> None:
    """Run the commands consumer: department actions from xinfang.commands."""
    _run_roles({"commands"})


@cli.command()
def worker() -> None:
    """Run the dramatiq workers (routing)."""
    _run_roles({"worker"})


@cli.command()
def scheduler() -> None:
    """Run the scheduler: periodic sweeps (re-routing cases whose route message was lost)."""
    _run_roles({"scheduler"})


@cli.command()
def metrics() -> None:
    """Serve the KPIs and open/overdue clocks on XINFANG_METRICS_PORT for Prometheus."""
    if not _settings().metrics_port:
        raise StartupError("set XINFANG_METRICS_PORT to the port to serve metrics on")
    _run_roles(set(), kpis=True)


@cli.command()
@click.option("--live", is_flag=True, help="Ask only whether the process lives (/healthz), "
              "not whether it is ready (/readyz).")
@click.option("--url", help="The probe's base URL (default: http://127.0.0.1:"
              "$XINFANG_METRICS_PORT).")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True,
              help="Seconds to wait for the answer.")
def health(live: bool, url: str | None, timeout: float) -> None:
    """Ask a running xinfang process whether it is ready (exit 0) or not (exit 1)."""
    from dispatcher.health_client import probe

    if url is None:
        port = _settings().metrics_port
        if not port:
            raise StartupError("set XINFANG_METRICS_PORT (the port the process serves "
                               "probes on) or give --url")
        url = f"http://127.0.0.1:{port}"
    ok, summary = probe(url.rstrip("/") + ("/healthz" if live else "/readyz"), timeout)
    click.echo(summary)
    sys.exit(0 if ok else 1)


@cli.command()
def relay() -> None:
    """Run the outbox relay that publishes events to xinfang.events."""
    _run_roles({"relay"})


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database schema to REVISION (default: head)."""
    from dispatcher.app import make_engine
    from dispatcher.db import schema

    settings = _settings()
    engine = make_engine(settings.database_url)
    schema.upgrade(engine, revision)
    where = engine.url.render_as_string(hide_password=True)
    click.echo(f"database {where} is at schema revision {schema.current_revision(engine)}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one this version needs."""
    from dispatcher.app import make_engine
    from dispatcher.db import schema

    engine = make_engine(_settings().database_url)
    click.echo(f"current {schema.current_revision(engine) or 'none'}, "
               f"head {schema.head_revision()}")


@cli.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--no-validate", is_flag=True, help="Send lines as they are, even invalid ones.")
def publish(file: Any, no_validate: bool) -> None:
    """Publish contract-v1 cases, one JSON object per line of FILE ('-' for stdin)."""
    from tqdm import tqdm

    from dispatcher.messaging.connection import connect
    from dispatcher.messaging.publisher import CasePublisher, publish_lines

    settings = _settings()
    lines = file.readlines()
    with connect(settings.broker_url) as connection, \
            tqdm(total=len(lines), unit="case", file=sys.stderr, disable=None) as progress:
        report = publish_lines(CasePublisher(connection), lines, validate=not no_validate,
                               progress=progress)
    click.echo(f"published {report.published}, failed {len(report.failed)}")
    for number, reason in report.failed:
        click.echo(f"  line {number}: {reason}")
    if settings.embedded:
        click.echo("note: XINFANG_BROKER_URL is not set: published to the in-process broker, "
                   "which only this process sees", err=True)
    sys.exit(0 if report.ok else 1)


@cli.command()
@click.option("--cases", "cases_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="A JSONL file of cases instead of the bundled sample.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def demo(cases_file: Path | None, as_json: bool) -> None:
    """Replay the bundled sample through the real pipeline, embedded, and print a report."""
    from dispatcher.demo.run import run_demo

    logging.basicConfig(level=logging.WARNING)
    report = run_demo(cases_file)
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json
               else report.render())


from dispatcher.cli_import import import_group  # noqa: E402

cli.add_command(import_group)

from dispatcher.cli_deadline import deadline  # noqa: E402

cli.add_command(deadline)


from dispatcher.cli_case import case_group  # noqa: E402

cli.add_command(case_group)

from dispatcher.cli_rules import rules_group  # noqa: E402

cli.add_command(rules_group)


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="xinfang", standalone_mode=False)
    except click.UsageError as error:
        click.echo(f"xinfang: error: {error.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        sys.exit(130)
    except _environment_errors() as error:
        click.echo(f"xinfang: {_one_line(error)}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _environment_errors() -> tuple[type[Exception], ...]:
    """Problems of configuration, files or services rather than of the command line: each is
    told in one line (exit 1), never as a traceback."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, OperationalError

    from dispatcher.calendar import CalendarError
    from dispatcher.db.schema import SchemaOutOfDate
    from dispatcher.policies import PolicyError
    from rules import RulesError

    return (SchemaOutOfDate, RulesError, CalendarError, PolicyError, SettingsError,
            OperationalError, ArgumentError, CommandError)


def _one_line(error: Exception) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(error, OperationalError):  # its text carries the SQL; the cause is enough
        cause = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return f"the database cannot be used: {cause}"
    lines = str(error).strip().splitlines()
    return lines[0] + (f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else "")


if __name__ == "__main__":
    main()
