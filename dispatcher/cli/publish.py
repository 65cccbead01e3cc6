"""`xinfang publish`: contract-v1 cases from a JSONL file to the broker."""

from __future__ import annotations

import sys
from typing import Any

import click

from dispatcher.cli import common


@click.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--no-validate", is_flag=True, help="Send lines as they are, even invalid ones.")
def publish(file: Any, no_validate: bool) -> None:
    """Publish contract-v1 cases, one JSON object per line of FILE ('-' for stdin)."""
    from tqdm import tqdm

    from dispatcher.adapters.messaging.connection import connect
    from dispatcher.adapters.messaging.publisher import CasePublisher, publish_lines

    settings = common.settings()
    lines = file.readlines()
    with (
        connect(settings.broker_url, confirm_each=False) as connection,
        tqdm(total=len(lines), unit="case", file=sys.stderr, disable=None) as progress,
    ):
        report = publish_lines(
            CasePublisher(connection), lines, validate=not no_validate, progress=progress
        )
    click.echo(f"published {report.published}, failed {len(report.failed)}")
    for number, reason in report.failed:
        click.echo(f"  line {number}: {reason}")
    if settings.embedded:
        click.echo(
            "note: XINFANG_BROKER_URL is not set: published to the in-process broker, "
            "which only this process sees",
            err=True,
        )
    sys.exit(0 if report.ok else 1)
