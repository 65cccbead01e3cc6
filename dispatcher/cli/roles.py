"""Commands that run roles: `xinfang run` (all in one process) and one command per role."""

from __future__ import annotations

import dataclasses
import logging
import signal
from typing import Any

import click

from dispatcher.cli import common

log = logging.getLogger("xinfang")


def _run_roles(roles: set[str], kpis: bool = False, port: int | None = None) -> None:
    """Run roles until SIGTERM/SIGINT, or until one of them ends unasked (then exit 1 with
    the reason, so that the supervisor restarts the process). With XINFANG_METRICS_PORT,
    serve this process's counters and its /healthz and /readyz probes there, and with `kpis`
    also the system's KPIs and clocks read from the database (one process per deployment
    should: `xinfang run` or `xinfang metrics`)."""
    from dispatcher.bootstrap.roles import RunningRoles

    settings = common.settings()
    if port is not None:  # the command line before the environment
        settings = dataclasses.replace(settings, metrics_port=port)
    common.configure_logging(settings)
    app = common.build_app(settings)
    running = RunningRoles(app)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: running.halted.set())
    if settings.metrics_port:
        _serve_metrics(app, running, settings.metrics_port, kpis)
    running.start(roles)
    mode = "embedded" if settings.embedded else "distributed"
    log.info("xinfang running (%s): %s", mode, ", ".join(sorted(roles)))
    if settings.embedded and "intake" in roles:  # its in-process broker takes no one's cases
        log.info(
            "embedded: no broker reaches this process; feed it with `xinfang publish FILE` "
            "on the same XINFANG_DATABASE_URL"
        )
    while not running.halted.wait(SUPERVISE_EVERY_SECONDS) and running.failure() is None:
        pass
    failure = running.failure()
    log.info("stopping: draining in-flight work")
    running.stop()
    app.close()
    if failure is not None:
        raise RoleFailed(failure)


SUPERVISE_EVERY_SECONDS = 1.0


class RoleFailed(common.Failed):
    """A role ended while nobody asked it to: one line, exit code 1."""


def _serve_metrics(app: Any, running: Any, port: int, kpis: bool) -> None:
    from dispatcher.bootstrap import health
    from monitoring.collector import KpiCollector, OutboxCollector

    system = []
    if kpis:  # the system's gauges, and in multiprocess mode every process's counters
        system = [KpiCollector(app.engine, app.clock), OutboxCollector(app.engine, app.clock)]
        app.metrics.role_up.watch("metrics", lambda: health.database_state(app.engine) == "ok")
    health.serve(
        port,
        app.metrics.exposition(system, aggregate=kpis),
        live=lambda: health.liveness(running.status(), running.failure()),
        ready=lambda: health.readiness(
            running.status(), running.failure(), health.database_state(app.engine)
        ),
    )


@click.command()
@click.option(
    "--roles",
    default="intake,commands,worker,relay,scheduler",
    show_default=True,
    help="Comma-separated roles to run in this process.",
)
def run(roles: str) -> None:
    """Run every role in one process (embedded by default; RabbitMQ/PostgreSQL when set)."""
    from dispatcher.bootstrap.roles import ROLES

    chosen = {role.strip() for role in roles.split(",") if role.strip()}
    unknown = chosen - set(ROLES)
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown role{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(sorted(unknown)) or '(none given)'}; "
            f"choose from {', '.join(ROLES)}",
            param_hint="--roles",
        )
    _run_roles(chosen, kpis=True)


@click.command()
def intake() -> None:
    """Run the intake consumer: validate, register, enqueue routing."""
    _run_roles({"intake"})


@click.command()
def commands() -> None:
    """Run the commands consumer: department actions from xinfang.commands."""
    _run_roles({"commands"})


@click.command()
def worker() -> None:
    """Run the dramatiq workers (routing)."""
    _run_roles({"worker"})


@click.command()
def scheduler() -> None:
    """Run the scheduler: periodic sweeps (re-routing cases whose route message was lost)."""
    _run_roles({"scheduler"})


PORT = click.IntRange(1, 65535)


@click.command()
@click.option("--port", type=PORT, help="The port to serve on (default: XINFANG_METRICS_PORT).")
def metrics(port: int | None) -> None:
    """Serve the KPIs and open/overdue clocks for Prometheus (/metrics, /healthz, /readyz)."""
    if not (port or common.settings().metrics_port):
        raise click.UsageError("give --port or set XINFANG_METRICS_PORT")
    _run_roles(set(), kpis=True, port=port)


@click.command()
def relay() -> None:
    """Run the outbox relay that publishes events to xinfang.events."""
    _run_roles({"relay"})
