"""`xinfang db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import click

from dispatcher.cli import common


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database schema to REVISION (default: head)."""
    from dispatcher.adapters.db import schema
    from dispatcher.bootstrap.app import make_engine

    settings = common.settings()
    engine = make_engine(settings.database_url)
    schema.upgrade(engine, revision)
    where = engine.url.render_as_string(hide_password=True)
    click.echo(f"database {where} is at schema revision {schema.current_revision(engine)}")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and the one this version needs."""
    from dispatcher.adapters.db import schema
    from dispatcher.bootstrap.app import make_engine, missing_sqlite_file

    url = common.settings().database_url
    if missing_sqlite_file(url) is not None:  # asking must not create an empty file
        click.echo(
            f"current none (no database at {missing_sqlite_file(url)}), head "
            f"{schema.head_revision()}"
        )
        return
    engine = make_engine(url)
    click.echo(
        f"current {schema.current_revision(engine) or 'none'}, head {schema.head_revision()}"
    )
