"""Counted nouns as people write them: '1 case', '2 cases', '4,999 lines', never 'case(s)'."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 problem', '2 problems', '4,999 lines'; `nouns` for an irregular plural."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
