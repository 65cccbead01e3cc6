"""Compiled conditions: each tests a prepared case view with no YAML left to interpret.

Every condition answers two questions: holds() on the hot path (a bool, no strings built) and
explain() for decisions and traces (the bool plus a sentence saying why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact for every
# case we will see and needs no tz database (no I/O, no tzdata package on slim images).
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class CaseView:
    """The case fields rules look at, read once per decision from a contract-v1 mapping."""

    channel: str | None
    source: str | None
    category: str | None
    region: str
    region_level: str | None  # level of the nearest known region on the lineage
    title: str
    content: str
    people_count: int
    urgent: bool
    petitioner_present: bool = False
    weekday: int | None = None  # ISO weekday of received_at in Shanghai time, 1 = Monday
    hour: int | None = None  # hour of received_at in Shanghai time
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, case: Mapping[str, Any], region_level: str | None) -> CaseView:
        people = case.get("people_count")
        received = local_time(case.get("received_at"))
        extra = case.get("extra")
        return cls(
            channel=_text_or_none(case.get("channel")),
            source=_text_or_none(case.get("source")),
            category=_text_or_none(case.get("category")),
            region=_text_or_none(case.get("region")) or "",
            region_level=region_level,
            title=_text_or_none(case.get("title")) or "",
            content=_text_or_none(case.get("content")) or "",
            # bool is an int in Python; `True` people is not a head count.
            people_count=people if isinstance(people, int) and not isinstance(people, bool) else 1,
            urgent=case.get("urgent") is True,
            petitioner_present=_petitioner_present(case),
            weekday=received.isoweekday() if received else None,
            hour=received.hour if received else None,
            extra=extra if isinstance(extra, Mapping) else {},
        )

    def text(self, where: str) -> str:
        return self.title if where == "title" else self.content


def _petitioner_present(case: Mapping[str, Any]) -> bool:
    """Case.facts() gives the flag (identity never reaches the rules); a contract-v1 message
    from the tools gives the petitioner object itself."""
    flag = case.get("petitioner_present")
    if isinstance(flag, bool):
        return flag
    return bool(case.get("petitioner"))


def local_time(value: object) -> datetime | None:
    """received_at as Shanghai local time: an aware datetime (from Case.facts()) or an RFC 3339
    string (from JSON files); a naive datetime is taken as already local. None if unusable."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(SHANGHAI) if value.tzinfo else value


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


class Condition(Protocol):
    def holds(self, view: CaseView) -> bool: ...

    def explain(self, view: CaseView) -> tuple[bool, str]: ...


def _listed(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(values) + "]"


@dataclass(frozen=True)
class OneOf:
    """A case attribute (channel, source, category, region_level) is one of the given values."""

    attribute: str
    allowed: frozenset[str]
    shown: tuple[str, ...]

    def holds(self, view: CaseView) -> bool:
        return getattr(view, self.attribute) in self.allowed

    def explain(self, view: CaseView) -> tuple[bool, str]:
        value = getattr(view, self.attribute)
        ok = value in self.allowed
        label = "region level" if self.attribute == "region_level" else self.attribute
        shown = value if value is not None else "(none)"
        return ok, f"{label} {shown} {'∈' if ok else '∉'} {_listed(self.shown)}"


@dataclass(frozen=True)
class RegionPrefix:
    prefixes: tuple[str, ...]

    def holds(self, view: CaseView) -> bool:
        return view.region.startswith(self.prefixes)

    def explain(self, view: CaseView) -> tuple[bool, str]:
        hit = next((p for p in self.prefixes if view.region.startswith(p)), None)
        if hit is not None:
            return True, f"region {view.region} starts with {hit}"
        shown = view.region or "(none)"
        return False, f"region {shown} starts with none of {_listed(self.prefixes)}"


@dataclass(frozen=True)
class Flag:
    """A boolean case attribute (urgent, petitioner_present) is exactly the wanted value."""

    attribute: str
    wanted: bool

    def holds(self, view: CaseView) -> bool:
        return getattr(view, self.attribute) is self.wanted

    def explain(self, view: CaseView) -> tuple[bool, str]:
        value = getattr(view, self.attribute)
        reason = f"{self.attribute} is {str(value).lower()}"
        ok = value is self.wanted
        return ok, reason if ok else f"{reason}, wanted {str(self.wanted).lower()}"


@dataclass(frozen=True)
class PeopleRange:
    minimum: int | None
    maximum: int | None

    def holds(self, view: CaseView) -> bool:
        n = view.people_count
        return (self.minimum is None or n >= self.minimum) and (
            self.maximum is None or n <= self.maximum
        )

    def explain(self, view: CaseView) -> tuple[bool, str]:
        n = view.people_count
        if self.minimum is not None and n < self.minimum:
            return False, f"people_count {n} < {self.minimum}"
        if self.maximum is not None and n > self.maximum:
            return False, f"people_count {n} > {self.maximum}"
        low = f"{self.minimum} ≤ " if self.minimum is not None else ""
        high = f" ≤ {self.maximum}" if self.maximum is not None else ""
        return True, f"people_count {low}{n}{high}"


@dataclass(frozen=True)
class ReceivedWithin:
    """received_at (Shanghai time) on one of the weekdays and within hours [start, end)."""

    weekdays: frozenset[int] | None
    hours: tuple[int, int] | None

    def holds(self, view: CaseView) -> bool:
        if view.weekday is None or view.hour is None:
            return False
        if self.weekdays is not None and view.weekday not in self.weekdays:
            return False
        return self.hours is None or in_hours(view.hour, self.hours)

    def explain(self, view: CaseView) -> tuple[bool, str]:
        if view.weekday is None or view.hour is None:
            return False, "received_at missing or not a time"
        ok = self.holds(view)
        wanted = []
        if self.weekdays is not None:
            wanted.append("weekday in [" + ", ".join(map(str, sorted(self.weekdays))) + "]")
        if self.hours is not None:
            wanted.append(f"hour in [{self.hours[0]}, {self.hours[1]})")
        got = f"received weekday {view.weekday}, hour {view.hour} (Asia/Shanghai)"
        return ok, f"{got} {'matches' if ok else 'does not match'} {' and '.join(wanted)}"


def in_hours(hour: int, hours: tuple[int, int]) -> bool:
    """hour in [start, end), wrapping over midnight when start > end."""
    start, end = hours
    return start <= hour < end if start < end else hour >= start or hour < end


def typed(value: object) -> tuple[type, object]:
    """A value keyed with its type, so that true never equals 1 and "1" never equals 1."""
    return type(value), value


@dataclass(frozen=True)
class ExtraIn:
    """case.extra[key] is one of the listed values (by type and value)."""

    key: str
    allowed: frozenset[tuple[type, object]]
    shown: tuple[str, ...]

    def holds(self, view: CaseView) -> bool:
        value = view.extra.get(self.key)
        try:
            return typed(value) in self.allowed
        except TypeError:  # an unhashable value (list, object) is never a listed scalar
            return False

    def explain(self, view: CaseView) -> tuple[bool, str]:
        ok = self.holds(view)
        value = view.extra.get(self.key, "(none)")
        return ok, f"extra.{self.key} {value!r} {'∈' if ok else '∉'} {_listed(self.shown)}"


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so the reason names 加装电梯 rather than 电梯 when both are listed.
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in ordered))


def _find(
    pattern: re.Pattern[str], view: CaseView, fields: tuple[str, ...]
) -> tuple[str, str] | None:
    """The first keyword found and where (fields in the order given: title before content)."""
    for where in fields:
        match = pattern.search(view.text(where))
        if match:
            return match.group(0), where
    return None


def _places(fields: tuple[str, ...]) -> str:
    return " or ".join(fields)


@dataclass(frozen=True)
class AnyKeyword:
    words: tuple[str, ...]
    pattern: re.Pattern[str]
    fields: tuple[str, ...] = ("title", "content")

    @classmethod
    def of(cls, words: tuple[str, ...], fields: tuple[str, ...]) -> AnyKeyword:
        return cls(words, _alternation(words), fields)

    def holds(self, view: CaseView) -> bool:
        return _find(self.pattern, view, self.fields) is not None

    def explain(self, view: CaseView) -> tuple[bool, str]:
        found = _find(self.pattern, view, self.fields)
        if found:
            return True, f"keyword {found[0]} in {found[1]}"
        return False, f"no keyword of {_listed(self.words)} in {_places(self.fields)}"


@dataclass(frozen=True)
class AllKeywords:
    words: tuple[str, ...]
    fields: tuple[str, ...] = ("title", "content")

    def _missing(self, view: CaseView) -> list[str]:
        texts = [view.text(where) for where in self.fields]
        return [w for w in self.words if not any(w in text for text in texts)]

    def holds(self, view: CaseView) -> bool:
        return not self._missing(view)

    def explain(self, view: CaseView) -> tuple[bool, str]:
        missing = self._missing(view)
        if missing:
            return False, f"required keyword {missing[0]} not in {_places(self.fields)}"
        return True, f"all keywords {_listed(self.words)} present"


@dataclass(frozen=True)
class NoKeyword:
    words: tuple[str, ...]
    pattern: re.Pattern[str]
    fields: tuple[str, ...] = ("title", "content")

    @classmethod
    def of(cls, words: tuple[str, ...], fields: tuple[str, ...]) -> NoKeyword:
        return cls(words, _alternation(words), fields)

    def holds(self, view: CaseView) -> bool:
        return _find(self.pattern, view, self.fields) is None

    def explain(self, view: CaseView) -> tuple[bool, str]:
        found = _find(self.pattern, view, self.fields)
        if found:
            return False, f"excluded keyword {found[0]} in {found[1]}"
        return True, f"none of the excluded keywords {_listed(self.words)}"
