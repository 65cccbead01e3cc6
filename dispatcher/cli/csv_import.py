"""`xinfang import csv`: another system's CSV export as contract-v1 JSONL.

Registered on the main `xinfang` group by dispatcher/cli.py. Progress and the summary go to
stderr, cases to --out or stdout, every skipped row to --errors; exit 1 when any row was skipped
or the file is unusable.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from dispatcher.cli import common
from dispatcher.cli.common import plural

if TYPE_CHECKING:
    from dispatcher.adapters.files.importer import Skipped, SkippedKind, Summary
    from dispatcher.adapters.files.importer_mapping import ImportMapping

MAX_KINDS = 10  # kinds of skipped rows told one by one; the rest in one line


class ImportFailed(common.Failed):
    """A mapping or header problem, or skipped rows: the message on stderr, exit code 1."""


class BadMapping(ImportFailed):
    """A mapping file that cannot be used: one line, or each problem and then a summary line."""

    def __init__(self, problems: list[str]) -> None:
        many = len(problems) > 1
        super().__init__(f"bad mapping file: {len(problems)} problems" if many else problems[0])
        self.problems = problems if many else []

    def show(self, file: Any = None) -> None:
        for problem in self.problems:
            click.echo(f"{common.ERROR_PREFIX}{problem}", err=True)
        super().show(file)


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
@click.option(
    "--errors",
    "errors_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=(
        "Write every skipped row here, one JSON object a line: "
        '{"line": 3, "kind": "...", "reason": "..."} (line: where the row starts, the header'
        " is line 1; kind: the summary's grouping; reason: the full reason)."
    ),
)
@click.argument(
    "csv_file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)
)
def import_csv(
    mapping_file: Path, out_file: Path | None, errors_file: Path | None, csv_file: Path
) -> None:
    """Turn CSV_FILE ('-' for stdin) into contract-v1 cases, one JSON object a line.

    Every produced line is validated against the contract. Bad rows are skipped; stderr gets
    `imported N of M rows; skipped K:` and one line per kind of problem with its count and
    first line numbers. --errors FILE keeps every skipped row with its full reason. The exit
    code is 1 if any row was skipped.
    """
    mapping = _load(mapping_file)
    with (
        _open_errors(errors_file) as errors,
        _open_csv(csv_file) as source,
        _open_out(out_file) as out,
        _progress(csv_file) as progress,
    ):
        summary = _run(csv_file, mapping, source, out, errors, progress)
    _report(summary, errors_file)


def _load(mapping_file: Path) -> ImportMapping:
    from dispatcher.adapters.files.importer_mapping import MappingError, load_mapping

    try:
        return load_mapping(mapping_file)
    except MappingError as error:
        raise BadMapping(error.problems) from None


def _run(
    csv_file: Path,
    mapping: ImportMapping,
    source: TextIO,
    out: TextIO,
    errors: TextIO | None,
    progress: Callable[[str], None],
) -> Summary:
    from dispatcher.adapters.files.importer import BadHeader, run_import

    on_skip = _error_writer(errors) if errors is not None else None
    try:
        return run_import(source, mapping, _writer(out), progress, on_skip)
    except BadHeader as error:
        raise ImportFailed(f"{csv_file}: {error}") from None
    except OSError as error:
        raise ImportFailed(f"{csv_file}: import stopped: {error}") from None


def _report(summary: Summary, errors_file: Path | None) -> None:
    done = f"imported {summary.imported:,} of {plural(summary.rows, 'row')}"
    if summary.ok:
        click.echo(done, err=True)
        return
    click.echo(f"{done}; skipped {summary.skipped:,}:", err=True)
    for line in _kind_lines(summary.by_count()):
        click.echo(line, err=True)
    where = (
        f"every one with its reason is in {errors_file}"
        if errors_file is not None
        else "--errors FILE writes every one with its reason"
    )
    raise ImportFailed(f"{plural(summary.skipped, 'row')} skipped; {where}")


def _kind_lines(kinds: list[SkippedKind]) -> list[str]:
    """'  4,999  <kind> — lines 2, 3, 4, 5, 6, …', the most frequent first."""
    shown, rest = kinds[:MAX_KINDS], kinds[MAX_KINDS:]
    width = len(f"{shown[0].count:,}")
    lines = [f"  {kind.count:>{width},}  {kind.kind} — {_line_numbers(kind)}" for kind in shown]
    if rest:
        count = sum(kind.count for kind in rest)
        lines.append(f"  {count:>{width},}  {len(rest):,} other kinds (see --errors)")
    return lines


def _line_numbers(kind: SkippedKind) -> str:
    numbers = ", ".join(map(str, kind.lines)) + (", …" if kind.count > len(kind.lines) else "")
    return f"line{'s' if kind.count > 1 else ''} {numbers}"


def _writer(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def emit(case: dict[str, Any]) -> None:
        out.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")

    return emit


def _error_writer(errors: TextIO) -> Callable[[Skipped], None]:
    def write(skipped: Skipped) -> None:
        row = {"line": skipped.line, "kind": skipped.kind, "reason": skipped.reason}
        errors.write(json.dumps(row, ensure_ascii=False) + "\n")

    return write


@contextmanager
def _open_csv(path: Path) -> Iterator[TextIO]:
    """Bytes that are not UTF-8 come as surrogates, so that their rows are skipped."""
    if str(path) == "-":
        yield io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        return
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as file:
        yield file


@contextmanager
def _open_out(path: Path | None) -> Iterator[TextIO]:
    if path is not None:
        with _create(path, "--out") as file:
            yield file
        return
    sys.stdout.flush()  # UTF-8 whatever the locale says; the binary stream stays open
    stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        yield stdout
    finally:
        stdout.flush()
        stdout.detach()


@contextmanager
def _open_errors(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with _create(path, "--errors") as file:
        yield file


@contextmanager
def _create(path: Path, option: str) -> Iterator[TextIO]:
    """The file of an option, opened for writing; one that cannot be is a bad option value."""
    try:
        file = path.open("w", encoding="utf-8", newline="\n")
    except OSError as error:
        message = f"cannot write {path}: {error.strerror or error}"
        raise click.BadParameter(message, param_hint=f"'{option}'") from None
    with file:
        yield file


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[str], None]]:
    """A tqdm bar on stderr counting the bytes read (a tty only, as `xinfang publish`)."""
    from tqdm import tqdm

    total = None if str(path) == "-" else os.path.getsize(path)
    with tqdm(
        total=total, unit="B", unit_scale=True, file=sys.stderr, disable=None, desc="import"
    ) as bar:
        yield lambda line: bar.update(len(line.encode("utf-8", "surrogateescape")))
