"""The `xinfang` command line: one module per command group. Bad arguments get one line on
stderr and exit code 2; a problem of configuration, files or services one line and exit 1.

The outermost layer: it may import everything below it, and nothing imports it."""

from __future__ import annotations

import sys

import click

from dispatcher.cli import (
    case,
    csv_import,
    db,
    deadline,
    demo,
    escalation,
    health,
    publish,
    roles,
    rules,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xinfang")
def cli() -> None:
    """xinfang: dispatch petitions (信访) to the responsible department, escalate the overdue.

    Configuration comes from the environment: XINFANG_BROKER_URL (absent: in-process broker),
    XINFANG_DATABASE_URL (absent: sqlite:///xinfang.db), XINFANG_RULES, XINFANG_DIRECTORY.
    """


for command in (
    roles.run,
    roles.intake,
    roles.commands,
    roles.worker,
    roles.scheduler,
    roles.metrics,
    roles.relay,
    health.health,
    db.db,
    publish.publish,
    demo.demo,
    csv_import.import_group,
    deadline.deadline,
    case.case_group,
    rules.rules_group,
    escalation.sweep,
    escalation.overdue,
    escalation.replan,
    escalation.notifications_group,
):
    cli.add_command(command)


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
    told in one line (exit 1), never as a traceback. xinfang's own errors share one root; the
    others come from the rules engine (a library of its own), SQLAlchemy and Alembic."""
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, OperationalError

    from dispatcher.domain.errors import XinfangError
    from rules import RulesError

    return (XinfangError, RulesError, OperationalError, ArgumentError, CommandError)


def _one_line(error: Exception) -> str:
    from sqlalchemy.exc import OperationalError

    if isinstance(error, OperationalError):  # its text carries the SQL; the cause is enough
        cause = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        return f"the database cannot be used: {cause}"
    lines = str(error).strip().splitlines()
    return lines[0] + (f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else "")
