"""Reasons for invalid messages say what is expected, in words, never a regular expression."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from support import valid_cases

from dispatcher.contract.intake import PATTERN_MEANINGS, Invalid, parse

SCHEMAS = ("case-v1.schema.json", "command-v1.schema.json")


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_pattern_of_the_schemas_has_words(name: str) -> None:
    schema = json.loads((resources.files("dispatcher.contract") / name).read_text("utf-8"))
    patterns = set(_patterns(schema))
    assert patterns, name
    assert patterns <= PATTERN_MEANINGS.keys(), patterns - PATTERN_MEANINGS.keys()


def _case(**changes: Any) -> bytes:
    return json.dumps({**valid_cases(1)[0], **changes}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"received_at": "2026-05-26"}, "RFC 3339 with an offset, like 2026-05-26T09:30:00+08:00"),
        ({"region": "5001"}, "must be 6, 9 or 12 digits, like 500103"),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "   "}, "title: must hold a character other than white space"),
    ],
)
def test_a_reason_says_what_is_expected(changes: dict[str, Any], expected: str) -> None:
    verdict = parse(_case(**changes))
    assert isinstance(verdict, Invalid)
    assert expected in verdict.reason
    assert "^" not in verdict.reason and "[0-9]" not in verdict.reason


def test_a_valid_case_is_valid() -> None:
    assert not isinstance(parse(_case()), Invalid)
