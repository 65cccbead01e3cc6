"""Turn another system's CSV export into contract-v1 cases, one row at a time (streaming).

Each row becomes either a case that passed `dispatcher.contract.intake.validate`, or a bad row
with its line number (the physical line where the record starts; the header is line 1) and why.
A reason names the column and at most its offending value, never the rest of the row; its kind
is the reason without the row's own values, so that rows skipped for one cause are counted together.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from dispatcher.adapters.files.importer_mapping import ImportMapping, TimeSpec, render_template
from dispatcher.contract.intake import SCHEMA_ID, Invalid, validate
from dispatcher.domain.errors import XinfangError

TITLE_LIMIT = 200
CONTENT_LIMIT = 20_000


class BadRow(XinfangError, ValueError):
    """One row that cannot become a case: why, and the kind of problem (why, without values)."""

    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.kind = kind or reason


class BadHeader(XinfangError, ValueError):
    """The file cannot be imported at all (no header, or columns the mapping needs are absent)."""


@dataclass(frozen=True)
class Imported:
    line: int
    case: dict[str, Any]


@dataclass(frozen=True)
class Skipped:
    line: int
    reason: str
    kind: str


Outcome = Imported | Skipped


def read_rows(
    lines: Iterable[str], mapping: ImportMapping
) -> Iterator[tuple[int, list[str] | str]]:
    """The header, checked against the mapping, then (starting line, fields) per record; a
    record the csv module cannot read comes as (line, reason).

    `lines` should come from a file opened with encoding="utf-8-sig", errors="surrogateescape"
    and newline="" so a BOM, bytes that are not UTF-8 and quoted line breaks are handled here.
    BadHeader if the header is unreadable or a needed column is absent.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise BadHeader(f"the header line is unreadable CSV: {error}") from None
    if header is None:
        raise BadHeader("the file is empty (no header line)")
    header = [name.lstrip("\ufeff").strip() for name in header]
    if not all(map(_is_text, header)):
        raise BadHeader("the header is not UTF-8 text (save the export as UTF-8)")
    missing = [column for column in mapping.columns() if column not in header]
    if missing:
        raise BadHeader(f"the header lacks column(s) the mapping needs: {', '.join(missing)}")
    yield 1, header
    start = reader.line_num + 1
    while True:
        try:
            fields: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a NUL byte; the reader goes on with the next line
            fields = f"unreadable CSV: {error}"
        if fields:  # csv yields [] for a blank line
            yield start, fields
        start = reader.line_num + 1


def import_rows(lines: Iterable[str], mapping: ImportMapping) -> Iterator[Outcome]:
    """Every record of a CSV text as Imported or Skipped, in file order."""
    records = read_rows(lines, mapping)
    _, header = next(records)
    assert isinstance(header, list)
    converter = RowConverter(mapping)
    for line, fields in records:
        if isinstance(fields, str):
            yield Skipped(line, fields, fields)
        elif len(fields) != len(header):
            yield Skipped(
                line,
                f"{len(fields)} fields where the header has {len(header)}",
                f"not as many fields as the header's {len(header)}",
            )
        else:
            yield converter.outcome(line, dict(zip(header, fields, strict=True)))


class RowConverter:
    """Builds and validates the case of one row; the mapping is prepared once."""

    def __init__(self, mapping: ImportMapping) -> None:
        self.mapping = mapping
        self.columns = mapping.columns()
        self.zone = ZoneInfo(mapping.received_at.timezone)
        self.region_map = {k.strip().casefold(): v for k, v in mapping.region.map.items()}
        category = mapping.category
        self.category_map = (
            {k.strip().casefold(): v for k, v in category.map.items()}
            if category is not None and category.map is not None
            else None
        )

    def outcome(self, line: int, row: dict[str, str]) -> Outcome:
        try:
            self.check_text(row)
            case = self.case(row)
        except BadRow as error:
            return Skipped(line, str(error), error.kind)
        verdict = validate(case)
        if isinstance(verdict, Invalid):
            why = "not a valid contract-v1 case: "
            first = verdict.reason.split("; ", 1)[0]  # a contract reason never shows a value
            return Skipped(line, why + verdict.reason, why + first)
        return Imported(line, case)

    def check_text(self, row: dict[str, str]) -> None:
        """BadRow if a column the mapping reads holds bytes that are not UTF-8."""
        for column in self.columns:
            if not _is_text(row.get(column) or ""):
                raise BadRow(f"column {column!r} is not UTF-8 text")

    def case(self, row: dict[str, str]) -> dict[str, Any]:
        m = self.mapping
        case: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "source": m.source,
            "external_id": _required(row, m.external_id),
            "channel": self.channel(row),
            "received_at": self.received_at(row),
            "region": self.region(row),
            "title": _clip(_render(m.title, row, "title"), TITLE_LIMIT),
            "content": _clip(_render(m.content, row, "content"), CONTENT_LIMIT),
        }
        category = self.category(row)
        if category is not None:
            case["category"] = category
        extra: dict[str, str | None] = {
            name: value.strip()
            for name, column in m.extra.items()
            if (value := row.get(column) or "").strip()
        }
        for name, spec in (("due_at", m.due_at), ("closed_at", m.closed_at)):
            if spec is not None:  # null: the source tracks the case and set no such time
                extra[name] = self.optional_time(row, spec)
        if extra:
            case["extra"] = extra
        return case

    def channel(self, row: dict[str, str]) -> str:
        spec = self.mapping.channel
        value = row.get(spec.column) if spec.column else None
        channel = spec.lookup(value)
        if channel is None:
            raise _unmapped(spec.column, (value or "").strip(), "channel")
        return channel

    def received_at(self, row: dict[str, str]) -> str:
        spec = self.mapping.received_at
        return self._time(spec.column, _required(row, spec.column), spec.formats, self.zone)

    def optional_time(self, row: dict[str, str], spec: TimeSpec) -> str | None:
        text = (row.get(spec.column) or "").strip()
        if not text:
            return None
        formats = spec.format or self.mapping.received_at.formats
        zone = ZoneInfo(spec.timezone) if spec.timezone else self.zone
        return self._time(
            spec.column, text, [formats] if isinstance(formats, str) else formats, zone
        )

    @staticmethod
    def _time(column: str, text: str, formats: list[str], zone: ZoneInfo) -> str:
        for fmt in formats:
            try:
                naive = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if naive.tzinfo is None:
                return naive.replace(tzinfo=zone).isoformat()
            return naive.isoformat()
        expected = f"does not match {' or '.join(map(repr, formats))}"
        raise BadRow(f"column {column!r}: {text!r} {expected}", f"column {column!r}: {expected}")

    def region(self, row: dict[str, str]) -> str:
        spec = self.mapping.region
        if spec.constant is not None:
            return spec.constant
        assert spec.column is not None
        value = (row.get(spec.column) or "").strip()
        code = self.region_map.get(value.casefold()) or (value if _is_code(value) else None)
        code = code or spec.default
        if code is None:
            raise _unmapped(spec.column, value, "region")
        return code

    def category(self, row: dict[str, str]) -> str | None:
        spec = self.mapping.category
        if spec is None:
            return None
        value = (row.get(spec.column) or "").strip()
        if self.category_map is not None:
            return self.category_map.get(value.casefold(), spec.default)
        return slug(value) or spec.default


def _unmapped(column: str | None, value: str, spec: str) -> BadRow:
    """A value (or an empty cell) that the map of `spec` does not know, and no default."""
    unset = f"and {spec}.default is not set"
    if not value:
        return BadRow(f"column {column!r}: is empty {unset}")
    return BadRow(
        f"column {column!r}: value {value!r} is not in {spec}.map {unset}",
        f"column {column!r}: a value that is not in {spec}.map {unset}",
    )


def _is_text(value: str) -> bool:
    """False for text decoded with errors="surrogateescape" from bytes that are not UTF-8."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _required(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise BadRow(f"column {column!r} is empty")
    return value


def _render(template: str, row: dict[str, str], name: str) -> str:
    text = render_template(template, row).strip()
    if not text:
        raise BadRow(f"{name} renders empty (its columns are empty)")
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_code(value: str) -> bool:
    return len(value) in (6, 9, 12) and value.isascii() and value.isdigit()


_NOT_KEY = re.compile(r"[^a-z0-9]+")


def slug(value: str) -> str | None:
    """A free-text category as a taxonomy key: "HEAT/HOT WATER" -> "heat_hot_water"."""
    key = _NOT_KEY.sub("_", value.casefold()).strip("_")[:64].rstrip("_")
    if not key:
        return None
    return key if key[0].isalpha() else f"c_{key}"[:64]


FIRST_LINES = 5  # line numbers kept per kind of skipped row


@dataclass
class SkippedKind:
    """The rows skipped for one kind of problem: how many, and the first lines."""

    kind: str
    count: int = 0
    lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.lines) < FIRST_LINES:
            self.lines.append(line)


@dataclass
class Summary:
    """What an import did, in bounded memory however many rows were skipped."""

    imported: int = 0
    skipped: int = 0
    kinds: dict[str, SkippedKind] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.skipped

    @property
    def rows(self) -> int:
        return self.imported + self.skipped

    def skip(self, skipped: Skipped) -> None:
        self.skipped += 1
        self.kinds.setdefault(skipped.kind, SkippedKind(skipped.kind)).add(skipped.line)

    def by_count(self) -> list[SkippedKind]:
        """The kinds, the most frequent first (then the one met first)."""
        return sorted(self.kinds.values(), key=lambda kind: (-kind.count, kind.lines[0]))


def run_import(
    source: TextIO,
    mapping: ImportMapping,
    emit: Callable[[dict[str, Any]], None],
    progress: Callable[[str], None] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
) -> Summary:
    """Stream `source` through the mapping, calling emit(case) per good row and on_skip per bad
    one; BadHeader raises."""
    summary = Summary()
    lines = _observed(source, progress) if progress is not None else source
    for outcome in import_rows(lines, mapping):
        if isinstance(outcome, Imported):
            emit(outcome.case)
            summary.imported += 1
        else:
            summary.skip(outcome)
            if on_skip is not None:
                on_skip(outcome)
    return summary


def _observed(lines: Iterable[str], progress: Callable[[str], None]) -> Iterator[str]:
    for line in lines:
        progress(line)
        yield line


__all__ = [
    "BadHeader",
    "Imported",
    "RowConverter",
    "Skipped",
    "SkippedKind",
    "Summary",
    "import_rows",
    "read_rows",
    "run_import",
    "slug",
]
