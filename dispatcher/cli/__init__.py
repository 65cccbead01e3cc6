"""The `xinfang` command line: one module per command group. One rule for errors: a command
line that is not understood (an unknown option, a value of the wrong form or out of its range, a
missing argument) gets one line `xinfang: error: …` on stderr and exit code 2; a command that
was understood but refused or failed (an unknown case, a step the law forbids, a bad file, a
problem of configuration or services) gets the same one line and exit code 1.

The outermost layer: it may import everything below it, and nothing imports it."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

# Each command's module is imported only when that command runs (or help lists it), so that
# `xinfang publish` does not load the calendar, the rules and the migrations it never uses.
COMMANDS = {
    "run": "roles:run",
    "intake": "roles:intake",
    "commands": "roles:commands",
    "worker": "roles:worker",
    "scheduler": "roles:scheduler",
    "metrics": "roles:metrics",
    "relay": "roles:relay",
    "health": "health:health",
    "db": "db:db",
    "publish": "publish:publish",
    "demo": "demo:demo",
    "import": "csv_import:import_group",
    "deadline": "deadline:deadline",
    "case": "case:case_group",
    "rules": "rules:rules_group",
    "sweep": "escalation:sweep",
    "overdue": "escalation:overdue",
    "replan": "escalation:replan",
    "notifications": "escalation:notifications_group",
    "report": "report:report",
    "api": "api:api",
    "keys": "keys:keys_group",
    "users": "users:users_group",
}


class LazyGroup(click.Group):
    """A group whose subcommands are loaded on first use (click's documented pattern for lazily
    loaded subcommands)."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self._lazy:
            return super().get_command(ctx, name)
        module, attribute = self._lazy[name].split(":")
        command = getattr(importlib.import_module(f"dispatcher.cli.{module}"), attribute)
        assert isinstance(command, click.Command) and command.name == name, name
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="xinfang")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """xinfang: dispatch petitions (信访) to the responsible department, escalate the overdue.

    Settings come from the environment, or from xinfang.toml beside it (the environment
    wins): XINFANG_BROKER_URL (absent: embedded, no broker), XINFANG_DATABASE_URL (absent:
    sqlite:///xinfang.db), XINFANG_RULES, XINFANG_DIRECTORY, ... (see the README).

    Exit codes: 0 done; 1 refused or failed (one line `xinfang: error: ...`); 2 the command
    line was not understood (the same one line).
    """
    if ctx.invoked_subcommand is None:  # bare `xinfang`: the help, as asked for, not an error
        click.echo(ctx.get_help())


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="xinfang", standalone_mode=False)
    except SystemExit:  # a command's own exit: raised before the clauses below import anything
        raise
    except click.UsageError as error:
        click.echo(f"xinfang: error: {error.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.Abort:
        sys.exit(130)
    except _environment_errors() as error:
        click.echo(f"xinfang: error: {_one_line(error)}", err=True)
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
