"""`xinfang demo`: the embedded pipeline over the bundled sample, with a report; with `--serve`,
then the console over the demo's database, for a newcomer to click through."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dispatcher.cli import common
from dispatcher.cli.roles import PORT

if TYPE_CHECKING:
    from dispatcher.demo.report import DemoReport

HOST = "127.0.0.1"  # served to this machine only: the logins are printed, the password fixed
DEFAULT_PORT = 8000


@click.command()
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSONL file of cases (contract v1, one per line) instead of the bundled sample; "
    "lines that are not valid cases are rejected, and listed with their reason.",
)
@click.option(
    "--keep",
    "keep",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the demo's database as the SQLite file PATH (it must not exist yet), to explore "
    "afterwards, e.g. XINFANG_DATABASE_URL=sqlite:///PATH xinfang overdue --now END; the "
    "report prints the exact commands. Without it the database is deleted.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the report as one JSON object (with --serve: once serving, with a `serve` "
    "member holding the URLs, logins and query code).",
)
@click.option(
    "--serve",
    is_flag=True,
    help=f"Then serve the console over the demo's database on {HOST} until Ctrl-C or SIGTERM, "
    "as of the simulation's end, and print its URL, demo logins and a petitioner's query code. "
    "The database is removed when the server stops, unless --keep.",
)
@click.option(
    "--port",
    type=PORT,
    metavar="N",
    help=f"The port --serve serves on (default {DEFAULT_PORT}).",
)
def demo(
    cases_file: Path | None, keep: Path | None, as_json: bool, serve: bool, port: int | None
) -> None:
    """Replay the bundled sample through the real pipeline, embedded, and print a report.

    The demo runs on a simulated clock, from the first receipt to the day after the last
    department's command; the report's rates and overdue cases are as of that end, and it
    says which day that is. A progress bar goes to stderr when stderr is a terminal, and so do
    the logs: warnings and errors only, unless XINFANG_LOG_LEVEL names another level.
    """
    if port is not None and not serve:
        raise click.UsageError("--port goes with --serve")
    _configure_logging()
    kept = _kept_database(keep) if keep else None
    if serve:
        _serve(cases_file, kept, as_json, port or DEFAULT_PORT)
        return
    report = _run(cases_file, kept)
    click.echo(_json(report.as_dict()) if as_json else report.render())


def _run(cases_file: Path | None, database: Path | None) -> DemoReport:
    from dispatcher.demo.cases_file import CasesFileError
    from dispatcher.demo.run import run_demo

    try:
        return run_demo(cases_file, keep=database)
    except CasesFileError as error:
        raise common.Failed(str(error)) from None
    except OSError as error:  # unreadable, or vanished since click looked
        raise common.Failed(f"{error.filename}: {error.strerror}") from None


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def _serve(cases_file: Path | None, kept: Path | None, as_json: bool, port: int) -> None:
    """The demo, its report, then the console over its database until Ctrl-C or SIGTERM."""
    from dispatcher.cli.api import serve
    from dispatcher.demo.showcase import showcase

    _require_free(port)
    base = f"http://{HOST}:{port}"
    with _served_database(kept) as (database, temporary):
        report = _run(cases_file, database)
        if temporary:  # the report would say "kept": it is served, then removed
            report = dataclasses.replace(report, kept=None)
        if not as_json:  # the report at once; the logins once the console answers
            click.echo(report.render())
        shown = showcase(database, report, temporary)

        def ready() -> None:
            if as_json:  # one object, printed whole once serving
                click.echo(_json(report.as_dict() | {"serve": shown.as_dict(base)}))
            else:
                click.echo("\n".join(shown.lines(base)))

        try:
            serve(shown.app, HOST, port, on_ready=ready)
        finally:
            shown.app.close()  # before the temporary directory goes: SQLite holds the file


@contextlib.contextmanager
def _served_database(kept: Path | None) -> Iterator[tuple[Path, bool]]:
    """Where the served demo's database is, and whether it is temporary: kept at --keep, else
    in a temporary directory that is removed once the server has stopped."""
    if kept is not None:
        yield kept, False
        return
    with tempfile.TemporaryDirectory(prefix="xinfang-demo-") as folder:
        yield Path(folder) / "demo.db", True


def _require_free(port: int) -> None:
    """Refuse a taken port before the demo's seconds of work rather than after them (the
    server still says so if the port is taken in between)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((HOST, port))
        except OSError as error:
            raise common.Failed(f"cannot serve on {HOST}:{port}: {error.strerror}") from None


def _configure_logging() -> None:
    """Quiet by default, so that a terminal shows the report; XINFANG_LOG_LEVEL, from the
    environment only (the demo reads no other setting), is honoured as by every command."""
    from dispatcher.bootstrap.settings import Settings, SettingsError

    level = os.environ.get("XINFANG_LOG_LEVEL")
    if not level:
        logging.basicConfig(level=logging.WARNING)
        return
    try:
        settings = Settings.from_env({"XINFANG_LOG_LEVEL": level})
    except SettingsError as error:
        raise common.StartupError(str(error)) from None
    common.configure_logging(settings)


def _kept_database(path: Path) -> Path:
    """Where to keep the database, absolute, so that the commands printed to explore it work
    from any directory. An existing file is refused rather than overwritten: it may be a real
    xinfang database."""
    where = path.expanduser().absolute()
    if not where.parent.is_dir():
        raise click.BadParameter(f"directory {where.parent} does not exist", param_hint="--keep")
    if where.exists():
        raise common.Failed(
            f"{where} exists: the demo writes a new database; remove it or give another --keep"
        )
    return where
