"""An index over compiled rules, so a case evaluates only the rules that could match it.

Each indexed attribute gives, for the case's value, a bit set (a Python int, bit i = rule i) of
the rules that could still match: the rules with no condition on that attribute, plus those that
list the value. The sets are intersected and the surviving rules are tried in ascending bit order,
i.e. in file order, so "first match wins" is exactly as in a full scan; the index only skips rules
that would have failed anyway. Everything not indexed (people, time, extra, `all`/`none`
keywords) is still checked by the rule itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from rules.compile import CompiledRule
from rules.conditions import CaseView

# Attributes named alike on When and CaseView, with discrete values looked up in a dict.
_VALUE_ATTRIBUTES = (
    "channel",
    "source",
    "category",
    "region_level",
    "urgent",
    "petitioner_present",
)


class _ValueIndex:
    def __init__(self, attribute: str, rules: Sequence[CompiledRule]) -> None:
        self.attribute = attribute
        self.free = 0  # rules without a condition on the attribute
        self.by_value: dict[Any, int] = {}
        for i, rule in enumerate(rules):
            wanted = getattr(rule.when, attribute)
            if wanted is None:
                self.free |= 1 << i
                continue
            for value in wanted if isinstance(wanted, list) else (wanted,):
                self.by_value[value] = self.by_value.get(value, 0) | 1 << i

    def candidates(self, view: CaseView) -> int:
        return self.free | self.by_value.get(getattr(view, self.attribute), 0)


class _PrefixIndex:
    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.free = 0
        self.by_prefix: dict[str, int] = {}
        for i, rule in enumerate(rules):
            if rule.when.region_prefix is None:
                self.free |= 1 << i
                continue
            for prefix in rule.when.region_prefix:
                self.by_prefix[prefix] = self.by_prefix.get(prefix, 0) | 1 << i
        self.lengths = sorted({len(prefix) for prefix in self.by_prefix})

    def candidates(self, view: CaseView) -> int:
        mask, region, get = self.free, view.region, self.by_prefix.get
        for length in self.lengths:
            if length > len(region):
                break
            mask |= get(region[:length], 0)
        return mask


class _KeywordIndex:
    """Rules with `any` (else `all`) keywords need at least one of those words in the text.

    One regex (a trie of every such word, in a lookahead so matches may overlap) finds, at each
    position, the longest word starting there; every shorter word starting there is a prefix of
    it, so crediting the rules of all its prefixes finds every word present.
    """

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.free = 0
        by_word: dict[str, int] = {}
        for i, rule in enumerate(rules):
            words = _gate_words(rule)
            if not words:
                self.free |= 1 << i
            for word in words:
                by_word[word] = by_word.get(word, 0) | 1 << i
        self.credit = {
            word: _or(mask for other, mask in by_word.items() if word.startswith(other))
            for word in by_word
        }
        self.pattern = re.compile(f"(?=({_trie(by_word)}))") if by_word else None

    def candidates(self, view: CaseView) -> int:
        mask = self.free
        if self.pattern is None:
            return mask
        credit = self.credit
        for text in (view.title, view.content):
            for match in self.pattern.finditer(text):
                mask |= credit[match.group(1)]
        return mask


def _gate_words(rule: CompiledRule) -> list[str]:
    """Words of which at least one must appear for the rule to match (superset, any field)."""
    keywords = rule.when.keywords
    if keywords is None:
        return []
    return list(keywords.any or keywords.all)


def _or(masks: Any) -> int:
    total = 0
    for mask in masks:
        total |= mask
    return total


def _trie(words: Any) -> str:
    """A regex matching any of `words`, as a trie so that re tests one branch per character,
    preferring the longest word."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(root)


def _node_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _node_pattern(child) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


class RuleIndex:
    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self._all = (1 << len(rules)) - 1
        self._parts: tuple[Any, ...] = (
            *(_ValueIndex(attribute, rules) for attribute in _VALUE_ATTRIBUTES),
            _PrefixIndex(rules),
            _KeywordIndex(rules),
        )

    def candidates(self, view: CaseView) -> Iterator[int]:
        """Positions of the rules that could match, ascending (= file order)."""
        mask = self._all
        for part in self._parts:
            mask &= part.candidates(view)
            if not mask:
                return
        while mask:
            low = mask & -mask
            yield low.bit_length() - 1
            mask ^= low
