"""`xinfang keys`: producers' API keys for the HTTP gateway.

    xinfang keys add SOURCE [--rate 600/minute] [--label TEXT]
    xinfang keys list [--json]
    xinfang keys revoke KEY_ID

A key is printed once, when it is added: only a hash of its secret is kept.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.common import plural
from dispatcher.domain.clocks import shanghai_text

DEFAULT_RATE = "600/minute"


class Rate(click.ParamType):
    """A rate as the `limits` library reads it: 600/minute, 100 per hour, 5/second;100/hour."""

    name = "RATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from limits import parse_many

        try:
            parse_many(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a rate such as 600/minute", param, ctx)
        return str(value)


def _source(value: str) -> str:
    # As the contract bounds a case's source: a key for any other could submit nothing.
    if not value.strip() or len(value) > 128:
        raise click.BadParameter("must be 1 to 128 characters, not only white space")
    return value


@click.group("keys")
def keys_group() -> None:
    """Producers' API keys for `xinfang api` (shown once, kept hashed)."""


@keys_group.command("add")
@click.argument("source", callback=lambda _c, _p, v: _source(v))
@click.option("--rate", type=Rate(), default=DEFAULT_RATE, show_default=True)
@click.option("--label", help="What the key is for, as people say it.")
def add(source: str, rate: str, label: str | None) -> None:
    """A new key for the producer SOURCE: it may submit the cases of that source only."""
    app = common.build_app(common.settings())
    try:
        text = app.producer_keys.issue(source, rate, label)
    finally:
        app.close()
    click.echo(text)
    click.echo("This key is shown once only: keep it now (only a hash of it is stored).", err=True)


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_keys(as_json: bool) -> None:
    """Every key: its id, source, rate, label and when it was made or revoked (never the key)."""
    app = common.build_app(common.settings())
    try:
        listed = app.producer_keys.listed()
    finally:
        app.close()
    for key in listed:
        revoked = _when(key.revoked_at) if key.revoked_at else None
        if as_json:
            shown = {
                "key_id": key.key_id,
                "source": key.source,
                "rate": key.rate,
                "label": key.label,
                "created_at": _when(key.created_at),
                "revoked_at": revoked,
            }
            click.echo(json.dumps(shown, ensure_ascii=False))
        else:
            state = f"revoked {revoked}" if revoked else "live"
            click.echo(
                f"{key.key_id}  {key.source}  {key.rate}  {state}  "
                f"made {_when(key.created_at)}  {key.label or ''}".rstrip()
            )
    if not as_json:
        click.echo(plural(len(listed), "key"))


@keys_group.command("revoke")
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke the key KEY_ID: requests with it are refused from now on."""
    app = common.build_app(common.settings())
    try:
        done = app.producer_keys.revoke(key_id)
    finally:
        app.close()
    if not done:
        raise common.Failed(f"no live key {key_id!r}")
    click.echo(f"revoked {key_id}")


def _when(moment: datetime) -> str:
    return shanghai_text(moment.replace(microsecond=0))
