"""Schema versions: upgrade with Alembic, and refuse to run on an out-of-date database."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dispatcher.domain.errors import XinfangError


class SchemaOutOfDate(XinfangError, RuntimeError):
    pass


def _config() -> Config:
    config = Config()
    migrations = resources.files("dispatcher.adapters.db") / "migrations"
    config.set_main_option("script_location", str(migrations))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def require_current(engine: Engine) -> None:
    """Raise SchemaOutOfDate unless the database is at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        raise SchemaOutOfDate(
            f"database {where} is at schema revision {current or 'none'}, this version of "
            f"xinfang needs {head}: run `xinfang db upgrade` first"
        )
