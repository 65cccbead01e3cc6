"""`xinfang import csv`: another system's CSV export as contract-v1 JSONL.

Registered on the main `xinfang` group by dispatcher/cli.py. Progress and the summary go to
stderr, cases to --out or stdout; exit 1 when any row was skipped or the file is unusable.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import click

from dispatcher.cli import common


class ImportFailed(common.Failed):
    """A mapping or header problem: the message on stderr, exit code 1."""


@click.group("import")
def import_group() -> None:
    """Import cases from other systems' exports as contract-v1 JSONL."""


@import_group.command("csv")
@click.option(
    "--map",
    "mapping_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The mapping YAML: which columns make which contract fields.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSONL here instead of stdout.",
)
@click.argument(
    "csv_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
def import_csv(mapping_file: Path, out_file: Path | None, csv_file: Path) -> None:
    """Turn CSV_FILE ('-' for stdin) into contract-v1 cases, one JSON object a line.

    Every produced line is validated against the contract. Bad rows are skipped and reported
    on stderr with their line numbers (`imported N, skipped M`, then `line K: reason`);
    the exit code is 1 if any row was skipped.
    """
    from dispatcher.adapters.files.importer import BadHeader, run_import
    from dispatcher.adapters.files.importer_mapping import MappingError, load_mapping

    try:
        mapping = load_mapping(mapping_file)
    except MappingError as error:
        raise ImportFailed("bad mapping file:\n  " + "\n  ".join(error.problems)) from None
    with _open_csv(csv_file) as source, _open_out(out_file) as out, _progress(csv_file) as progress:
        try:
            summary = run_import(source, mapping, _writer(out), progress)
        except BadHeader as error:
            raise ImportFailed(f"{csv_file}: {error}") from None
    click.echo(f"imported {summary.imported}, skipped {len(summary.skipped)}", err=True)
    for line, reason in summary.skipped:
        click.echo(f"  line {line}: {reason}", err=True)
    sys.exit(0 if summary.ok else 1)


def _writer(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def emit(case: dict[str, Any]) -> None:
        out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")

    return emit


@contextmanager
def _open_csv(path: Path) -> Iterator[TextIO]:
    if str(path) == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        return
    with path.open(encoding="utf-8-sig", newline="") as file:
        yield file


@contextmanager
def _open_out(path: Path | None) -> Iterator[TextIO]:
    if path is None:  # UTF-8 whatever the locale says; the binary stream stays open
        sys.stdout.flush()
        stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
        try:
            yield stdout
        finally:
            stdout.flush()
            stdout.detach()
        return
    with path.open("w", encoding="utf-8", newline="\n") as file:
        yield file


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[str], None]]:
    """A tqdm bar on stderr counting the bytes read (a tty only, as `xinfang publish`)."""
    from tqdm import tqdm

    total = None if str(path) == "-" else os.path.getsize(path)
    with tqdm(
        total=total, unit="B", unit_scale=True, file=sys.stderr, disable=None, desc="import"
    ) as bar:
        yield lambda line: bar.update(len(line.encode("utf-8")))
