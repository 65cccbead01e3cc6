"""`xinfang publish`: contract-v1 cases from a JSONL file to the broker, or, embedded (no
XINFANG_BROKER_URL), straight into the database's intake in this process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from dispatcher.bootstrap.settings import Settings
from dispatcher.cli import common


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--no-validate", is_flag=True, help="Send lines as they are, even invalid ones.")
def publish(file: Any, no_validate: bool) -> None:
    """Publish contract-v1 cases, one JSON object per line of FILE ('-' for stdin).

    With XINFANG_BROKER_URL: to exchange xinfang.intake, with publisher confirms. Without it
    (embedded): registered and routed in this process, in the database of
    XINFANG_DATABASE_URL, where a running embedded `xinfang run` takes them over."""
    from tqdm import tqdm

    from dispatcher.adapters.messaging.publisher import publish_lines

    settings = common.settings()
    lines = file.readlines()
    with (
        _sink(settings) as sink,
        tqdm(total=len(lines), unit="case", file=sys.stderr, disable=None) as progress,
    ):
        report = publish_lines(sink, lines, validate=not no_validate, progress=progress)
    click.echo(f"published {report.published}, failed {len(report.failed)}")
    for number, reason in report.failed:
        click.echo(f"  line {number}: {reason}")
    if settings.embedded:
        _tell_embedded(settings, sink.outcomes)
    sys.exit(0 if report.ok else 1)


@contextmanager
def _sink(settings: Settings) -> Iterator[Any]:
    if not settings.embedded:
        from dispatcher.adapters.messaging.connection import connect
        from dispatcher.adapters.messaging.publisher import CasePublisher

        with connect(settings.broker_url, confirm_each=False) as connection:
            yield CasePublisher(connection)
        return
    from dispatcher.bootstrap.direct_intake import DirectIntake

    app = common.build_app(settings)
    try:
        yield DirectIntake(app.intake, app.routing)
    finally:
        app.close()


def _tell_embedded(settings: Settings, outcomes: Any) -> None:
    from sqlalchemy.engine import make_url

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    click.echo(
        f"embedded (XINFANG_BROKER_URL not set): into {where} directly — registered and routed "
        f"{outcomes['registered']}, joined an existing case {outcomes['joined']}, "
        f"already there {outcomes['duplicate']}, rejected {outcomes['rejected']}",
        err=True,
    )
