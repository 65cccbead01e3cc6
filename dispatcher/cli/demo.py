"""`xinfang demo`: the embedded pipeline over the bundled sample, with a report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click


@click.command()
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSONL file of cases instead of the bundled sample.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def demo(cases_file: Path | None, as_json: bool) -> None:
    """Replay the bundled sample through the real pipeline, embedded, and print a report."""
    from dispatcher.demo.run import run_demo

    logging.basicConfig(level=logging.WARNING)
    report = run_demo(cases_file)
    click.echo(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else report.render()
    )
