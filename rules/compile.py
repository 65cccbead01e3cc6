"""Turn validated rule models into compiled rules, once, at load time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rules.conditions import (
    AllKeywords,
    AnyKeyword,
    CaseView,
    Condition,
    ExtraIn,
    Flag,
    NoKeyword,
    OneOf,
    PeopleRange,
    ReceivedWithin,
    RegionPrefix,
    typed,
)
from rules.model import Divert, Rule, Target, When


@dataclass(frozen=True)
class Action:
    """What a matching rule decides, beside its conditions."""

    assign: Target | None  # None when the rule diverts
    co_handlers: tuple[Target, ...] = ()
    priority: str = "normal"
    policy: str | None = None
    ladder: str | None = None
    tags: tuple[str, ...] = ()
    fast_lane: bool = False
    divert: Divert | None = None


@dataclass(frozen=True)
class CompiledRule:
    id: str
    action: Action
    conditions: tuple[Condition, ...]
    source: str  # "<file>#<position>", for traces and reports
    when: When  # the validated conditions, for indexing and shadowing analysis
    note: str | None = None

    def matches(self, view: CaseView) -> bool:
        return all(condition.holds(view) for condition in self.conditions)

    def explain(self, view: CaseView) -> tuple[bool, tuple[str, ...]]:
        """(matched, reasons): every reason when matched, else those up to the first failure."""
        reasons: list[str] = []
        for condition in self.conditions:
            ok, reason = condition.explain(view)
            reasons.append(reason)
            if not ok:
                return False, tuple(reasons)
        return True, tuple(reasons)


def compile_rule(rule: Rule, path: Path, position: int) -> CompiledRule:
    action = Action(
        assign=rule.assign,
        co_handlers=tuple(rule.co_handlers),
        priority=rule.priority,
        policy=rule.policy,
        ladder=rule.ladder,
        tags=tuple(rule.tags),
        fast_lane=rule.fast_lane,
        divert=rule.divert,
    )
    return CompiledRule(
        id=rule.id,
        action=action,
        conditions=compile_when(rule.when),
        source=f"{path.name}#{position}",
        when=rule.when,
        note=rule.note,
    )


def compile_when(when: When) -> tuple[Condition, ...]:
    """Conditions in a fixed order, cheapest first; the trace names the first that fails."""
    found: list[Condition] = []
    for attribute in ("channel", "source", "category", "region_level"):
        values = getattr(when, attribute)
        if values is not None:
            found.append(OneOf(attribute, frozenset(values), tuple(values)))
    if when.region_prefix is not None:
        found.append(RegionPrefix(tuple(when.region_prefix)))
    for flag in ("urgent", "petitioner_present"):
        wanted = getattr(when, flag)
        if wanted is not None:
            found.append(Flag(flag, wanted))
    bounds = when.people_bounds()
    if bounds is not None:
        found.append(PeopleRange(*bounds))
    for key, values in (when.extra or {}).items():
        shown = tuple(repr(value) for value in values)
        found.append(ExtraIn(key, frozenset(typed(value) for value in values), shown))
    if when.received is not None:
        weekdays = when.received.weekdays
        found.append(ReceivedWithin(frozenset(weekdays) if weekdays else None, when.received.hours))
    if when.keywords is not None:
        found += _keyword_conditions(when)
    return tuple(found)


def _keyword_conditions(when: When) -> list[Condition]:
    assert when.keywords is not None
    words = when.keywords
    fields = tuple(dict.fromkeys(words.fields))  # de-duplicated, order kept
    found: list[Condition] = []
    if words.any:
        found.append(AnyKeyword.of(tuple(words.any), fields))
    if words.all:
        found.append(AllKeywords(tuple(words.all), fields))
    if words.none:
        found.append(NoKeyword.of(tuple(words.none), fields))
    return found
