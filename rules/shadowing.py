"""Shadowed rules: a rule that can never win because an earlier rule matches every case it does.

Rule E (earlier) shadows rule L (later) when every condition of E is implied by L's conditions.
The check is conservative: it answers "implied" only when that is certain from the condition
kinds alone (an omitted condition, a superset of values, a shorter prefix, a keyword contained in
a required one, …), so a reported shadow is a real one; some exotic shadows may go unreported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rules.compile import CompiledRule
from rules.conditions import typed
from rules.model import Keywords, Received, When

_SET_CONDITIONS = ("category", "channel", "source", "region_level")


def shadowing_pairs(rules: Sequence[CompiledRule]) -> list[tuple[int, int]]:
    """(later, earlier) positions for each rule shadowed by an earlier one (the first such)."""
    found: list[tuple[int, int]] = []
    for later in range(len(rules)):
        when = rules[later].when
        earlier = next((e for e in range(later) if implies(when, rules[e].when)), None)
        if earlier is not None:
            found.append((later, earlier))
    return found


def implies(later: When, earlier: When) -> bool:
    """True when every case meeting `later` certainly meets `earlier` too."""
    return all(check(later, earlier) for check in _CHECKS)


def _sets(later: When, earlier: When) -> bool:
    for name in _SET_CONDITIONS:
        wide = getattr(earlier, name)
        if wide is None:
            continue
        narrow = getattr(later, name)
        if narrow is None or not set(narrow) <= set(wide):
            return False
    return True


def _prefixes(later: When, earlier: When) -> bool:
    if earlier.region_prefix is None:
        return True
    if later.region_prefix is None:
        return False
    return all(p.startswith(tuple(earlier.region_prefix)) for p in later.region_prefix)


def _flags(later: When, earlier: When) -> bool:
    return all(
        getattr(earlier, name) is None or getattr(later, name) == getattr(earlier, name)
        for name in ("urgent", "petitioner_present")
    )


def _people(later: When, earlier: When) -> bool:
    wide = earlier.people_bounds()
    if wide is None:
        return True
    narrow = later.people_bounds() or (None, None)
    low_ok = (wide[0] or 1) <= (narrow[0] or 1)
    high_ok = wide[1] is None or (narrow[1] is not None and narrow[1] <= wide[1])
    return low_ok and high_ok


def _extra(later: When, earlier: When) -> bool:
    wide, narrow = earlier.extra or {}, later.extra or {}
    return all(
        key in narrow and {typed(v) for v in narrow[key]} <= {typed(v) for v in values}
        for key, values in wide.items()
    )


def _received(later: When, earlier: When) -> bool:
    if earlier.received is None:
        return True
    if later.received is None:
        return False
    return _weekdays(later.received) <= _weekdays(earlier.received) and _hours(
        later.received
    ) <= _hours(earlier.received)


def _weekdays(received: Received) -> set[int]:
    return set(received.weekdays) if received.weekdays else set(range(1, 8))


def _hours(received: Received) -> set[int]:
    if received.hours is None:
        return set(range(24))
    start, end = received.hours
    return set(range(start, end)) if start < end else set(range(start, 24)) | set(range(end))


def _keywords(later: When, earlier: When) -> bool:
    wide, narrow = earlier.keywords, later.keywords
    if wide is None:
        return True
    if narrow is None:
        return False
    return _any_implied(narrow, wide) and _all_implied(narrow, wide) and _none_implied(narrow, wide)


def _contains_one(words: Sequence[str], inner: Sequence[str]) -> bool:
    """Some of `inner` is a substring of every word of `words` (and there are words)."""
    return bool(words) and all(any(i in w for i in inner) for w in words)


def _any_implied(narrow: Keywords, wide: Keywords) -> bool:
    if not wide.any:
        return True
    # A word found in the later rule's fields is found in the earlier's only if those are wider.
    if not set(narrow.fields) <= set(wide.fields):
        return False
    return _contains_one(narrow.any, wide.any) or any(
        any(w in required for w in wide.any) for required in narrow.all
    )


def _all_implied(narrow: Keywords, wide: Keywords) -> bool:
    if not wide.all:
        return True
    if not set(narrow.fields) <= set(wide.fields):
        return False
    return all(any(w in required for required in narrow.all) for w in wide.all)


def _none_implied(narrow: Keywords, wide: Keywords) -> bool:
    if not wide.none:
        return True
    # Absent from the later rule's fields means absent from the earlier's only if those are fewer.
    if not set(wide.fields) <= set(narrow.fields):
        return False
    return all(any(v in w for v in narrow.none) for w in wide.none)


_CHECKS: tuple[Callable[[When, When], bool], ...] = (
    _sets,
    _prefixes,
    _flags,
    _keywords,
    _people,
    _extra,
    _received,
)
