"""`xinfang users …`: the console's officers — a department's, bound to its org unit, or a
petition bureau's, bound to its region and everything below it. Passwords are read from a
prompt (or one line of stdin) and kept only as argon2 hashes."""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.exc import IntegrityError

from dispatcher.cli import common
from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.regions import InvalidRegion, Region

LOCALES = ("zh", "en")
MIN_PASSWORD = 10


@click.group("users")
def users_group() -> None:
    """Add, list and disable the console's officers."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise common.Failed(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def _officer(
    app: Any, username: str, unit: str | None, bureau: str | None, name: str | None, locale: str
) -> Officer:
    if (unit is None) == (bureau is None):
        raise click.UsageError("give either --unit (a department) or --bureau (a region)")
    if unit is not None:
        found = common.org_unit(app, unit)
        return Officer(
            username, name or found["name"], Role.DEPARTMENT, found["id"], found["region"], locale
        )
    assert bureau is not None
    try:
        Region(bureau)
    except InvalidRegion as error:
        raise click.BadParameter(str(error), param_hint="--bureau") from None
    region_name = app.region_name(bureau)
    if region_name is None:
        raise click.BadParameter(f"no region {bureau} in the directory", param_hint="--bureau")
    return Officer(username, name or f"{region_name}信访局", Role.BUREAU, None, bureau, locale)


@users_group.command("add")
@click.argument("username")
@click.option("--unit", metavar="UNIT_ID", help="A department's org unit, e.g. 500103:housing.")
@click.option("--bureau", metavar="REGION", help="A petition bureau's region code, e.g. 500103.")
@click.option("--name", help="The name shown (default: the unit's or the bureau's).")
@click.option("--locale", type=click.Choice(LOCALES), default="zh", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
def add(
    username: str,
    unit: str | None,
    bureau: str | None,
    name: str | None,
    locale: str,
    password_stdin: bool,
) -> None:
    """Add an officer who can log in to the console."""
    from dispatcher.adapters.db import console_store
    from dispatcher.adapters.passwords import Argon2Passwords
    from dispatcher.services.console import new_user

    if (unit is None) == (bureau is None):
        raise click.UsageError("give either --unit (a department) or --bureau (a region)")
    app = common.build_app(common.settings())
    try:
        officer = _officer(app, username, unit, bureau, name, locale)
        row = new_user(Argon2Passwords(), username, _password(password_stdin), officer, app.clock())
        try:
            with app.engine.begin() as conn:
                console_store.insert_user(conn, row)
        except IntegrityError:
            raise common.Failed(f"there is already a user {username!r}") from None
    finally:
        app.close()
    scope = officer.unit_id if officer.role is Role.DEPARTMENT else f"region {officer.region}"
    click.echo(f"added {username}: {officer.display_name} ({officer.role.value}, {scope})")


@users_group.command("list")
def list_users() -> None:
    """Every officer, with their unit or region; never a password."""
    from dispatcher.adapters.db import console_store

    app = common.build_app(common.settings())
    try:
        with app.engine.connect() as conn:
            rows = console_store.list_users(conn)
    finally:
        app.close()
    for row in rows:
        scope = row["unit_id"] or f"region {row['region']}"
        state = (
            f"disabled {row['disabled_at'].astimezone(SHANGHAI):%Y-%m-%d}"
            if row["disabled_at"]
            else "active"
        )
        click.echo(f"{row['username']}  {row['role']:<10} {scope}  {row['display_name']}  {state}")
    click.echo(common.plural(len(rows), "user"))


@users_group.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Stop an officer logging in; their open sessions end at their next request."""
    from dispatcher.adapters.db import console_store

    app = common.build_app(common.settings())
    try:
        with app.engine.begin() as conn:
            done = console_store.disable_user(conn, username, app.clock())
    finally:
        app.close()
    if not done:
        raise common.Failed(f"no active user {username!r}")
    click.echo(f"disabled {username}")


@users_group.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
def password(username: str, password_stdin: bool) -> None:
    """Set an officer's password."""
    from dispatcher.adapters.db import console_store
    from dispatcher.adapters.passwords import Argon2Passwords

    app = common.build_app(common.settings())
    try:
        with app.engine.begin() as conn:
            if console_store.find_user(conn, username) is None:
                raise common.Failed(f"no user {username!r}")
            hashed = Argon2Passwords().hash(_password(password_stdin))
            console_store.set_password(conn, username, hashed)
    finally:
        app.close()
    click.echo(f"password of {username} set")
