"""`xinfang demo`: the embedded pipeline over the bundled sample, with a report."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import click

from dispatcher.cli import common


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
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def demo(cases_file: Path | None, keep: Path | None, as_json: bool) -> None:
    """Replay the bundled sample through the real pipeline, embedded, and print a report.

    The demo runs on a simulated clock, from the first receipt to the day after the last
    department's command; the report's rates and overdue cases are as of that end, and it
    says which day that is. A progress bar goes to stderr when stderr is a terminal, and so do
    the logs: warnings and errors only, unless XINFANG_LOG_LEVEL names another level.
    """
    from dispatcher.demo.cases_file import CasesFileError
    from dispatcher.demo.run import run_demo

    _configure_logging()
    kept = _kept_database(keep) if keep else None
    try:
        report = run_demo(cases_file, keep=kept)
    except CasesFileError as error:
        raise common.Failed(str(error)) from None
    except OSError as error:  # unreadable, or vanished since click looked
        raise common.Failed(f"{error.filename}: {error.strerror}") from None
    click.echo(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else report.render()
    )


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
