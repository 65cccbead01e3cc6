"""Compiled conditions: each tests a prepared case view with no YAML left to interpret.

Every condition answers two questions: holds() on the hot path (a bool, no strings built) and
explain() for decisions and traces (the bool plus a sentence saying why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


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

    @classmethod
    def of(cls, case: Mapping[str, Any], region_level: str | None) -> CaseView:
        people = case.get("people_count")
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
        )


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
class Urgent:
    wanted: bool

    def holds(self, view: CaseView) -> bool:
        return view.urgent is self.wanted

    def explain(self, view: CaseView) -> tuple[bool, str]:
        ok = self.holds(view)
        reason = f"urgent is {str(view.urgent).lower()}"
        return ok, reason if ok else f"{reason}, wanted {str(self.wanted).lower()}"


@dataclass(frozen=True)
class MinPeople:
    minimum: int

    def holds(self, view: CaseView) -> bool:
        return view.people_count >= self.minimum

    def explain(self, view: CaseView) -> tuple[bool, str]:
        ok = self.holds(view)
        return ok, f"people_count {view.people_count} {'≥' if ok else '<'} {self.minimum}"


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so the reason names 加装电梯 rather than 电梯 when both are listed.
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in ordered))


def _find(pattern: re.Pattern[str], view: CaseView) -> tuple[str, str] | None:
    """The first keyword found and where ("title" is searched before "content")."""
    for where, text in (("title", view.title), ("content", view.content)):
        match = pattern.search(text)
        if match:
            return match.group(0), where
    return None


@dataclass(frozen=True)
class AnyKeyword:
    words: tuple[str, ...]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, words: tuple[str, ...]) -> AnyKeyword:
        return cls(words, _alternation(words))

    def holds(self, view: CaseView) -> bool:
        return _find(self.pattern, view) is not None

    def explain(self, view: CaseView) -> tuple[bool, str]:
        found = _find(self.pattern, view)
        if found:
            return True, f"keyword {found[0]} in {found[1]}"
        return False, f"no keyword of {_listed(self.words)} in title or content"


@dataclass(frozen=True)
class AllKeywords:
    words: tuple[str, ...]

    def holds(self, view: CaseView) -> bool:
        return all(w in view.title or w in view.content for w in self.words)

    def explain(self, view: CaseView) -> tuple[bool, str]:
        missing = [w for w in self.words if w not in view.title and w not in view.content]
        if missing:
            return False, f"required keyword {missing[0]} not in title or content"
        return True, f"all keywords {_listed(self.words)} present"


@dataclass(frozen=True)
class NoKeyword:
    words: tuple[str, ...]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, words: tuple[str, ...]) -> NoKeyword:
        return cls(words, _alternation(words))

    def holds(self, view: CaseView) -> bool:
        return _find(self.pattern, view) is None

    def explain(self, view: CaseView) -> tuple[bool, str]:
        found = _find(self.pattern, view)
        if found:
            return False, f"excluded keyword {found[0]} in {found[1]}"
        return True, f"none of the excluded keywords {_listed(self.words)}"
