"""What every command shares: settings from the environment, logging, building the app, and
the one-line error of a start-up problem."""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from dispatcher.bootstrap.settings import Settings, SettingsError
from dispatcher.domain.wording import plural

__all__ = ["ERROR_PREFIX", "Failed", "StartupError", "plural", "settings"]


class Failed(click.ClickException):
    """A command that was understood but refused or failed (an unknown case, a step the law
    forbids, a bad file, a service away): one line `xinfang: error: …`, exit code 1. A command
    line that was not understood is a click.UsageError instead: the same line, exit code 2."""

    def show(self, file: Any = None) -> None:
        click.echo(f"{ERROR_PREFIX}{self.format_message()}", err=True)


ERROR_PREFIX = "xinfang: error: "


class StartupError(Failed):
    """A problem with configuration, rules or schema."""


def settings() -> Settings:
    """From the environment, over xinfang.toml (dispatcher.bootstrap.config_file)."""
    from dispatcher.bootstrap.config_file import with_config

    try:
        return Settings.from_env(with_config(os.environ))
    except SettingsError as error:
        raise StartupError(str(error)) from None


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s",
    )
    for chatty in ("alembic",):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    # A lost connection is told once by the role that waits it out (dispatcher.adapters.outage)
    # and by dramatiq's consumer; kombu's and pika's own tracebacks of the same loss are noise.
    for quiet in ("pika", "kombu.mixins"):
        logging.getLogger(quiet).setLevel(max(logging.CRITICAL, logging.root.level))


def build_app(settings: Settings) -> Any:
    from dispatcher.adapters.db.schema import SchemaOutOfDate
    from dispatcher.bootstrap.app import build
    from rules import RulesError

    try:
        return build(settings)
    except (SchemaOutOfDate, RulesError) as error:
        raise StartupError(str(error)) from None


def org_unit(app: Any, unit_id: str, option: str = "--unit") -> dict[str, str]:
    """The directory's org unit of an id (500103:housing, or a named unit such as nyc:HPD)."""
    directory = app.decider.ruleset.directory
    unit = directory.named_unit(unit_id)
    if unit is None and ":" in unit_id:
        region, _, kind = unit_id.partition(":")
        unit = directory.unit(region, kind)
    if unit is None:
        raise click.BadParameter(f"no org unit {unit_id!r} in the directory", param_hint=option)
    return {"id": unit.id, "name": unit.name, "kind": unit.kind, "region": unit.region}
