"""The shared corpus of malformed intake messages (tests/contract/malformed.py): every entry is
rejected by `parse` with its code, the entries are distinct, and docs/malformed-messages.md lists
exactly them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from contract.malformed import MALFORMED, ONE_MIB, PETITIONER, Malformed

from dispatcher.contract.intake import MAX_MESSAGE_BYTES, Invalid, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "malformed-messages.md"
ROW = re.compile(r"^\| `(?P<kind>[^`]+)` \| (?P<what>.+) \| `(?P<code>[^`]+)` \|$")


@pytest.mark.parametrize("entry", [pytest.param(m, id=m.kind) for m in MALFORMED])
def test_parse_rejects_the_entry_with_its_code(entry: Malformed) -> None:
    result = parse(entry.body, entry.content_type)
    assert isinstance(result, Invalid), f"{entry.kind} is accepted"
    assert result.code == entry.code, result
    assert result.reason.strip(), result
    for field, value in PETITIONER.items():
        assert value not in result.reason, f"petitioner {field} in the reason of {entry.kind}"


def test_there_are_at_least_45_kinds() -> None:
    assert len(MALFORMED) >= 45


def test_kinds_are_unique() -> None:
    kinds = [m.kind for m in MALFORMED]
    assert len(set(kinds)) == len(kinds), sorted(k for k in kinds if kinds.count(k) > 1)


def test_bodies_are_unique() -> None:
    """The consumer keys rejections by body digest: two entries must never share a body."""
    bodies = [m.body for m in MALFORMED]
    assert len(set(bodies)) == len(bodies)


def test_entries_are_hashable_and_fit_in_a_table_row() -> None:
    assert len(set(MALFORMED)) == len(MALFORMED)
    for entry in MALFORMED:
        assert isinstance(entry.body, bytes)
        assert "|" not in entry.what and "\n" not in entry.what, entry.kind
        assert entry.routing_key.startswith("case."), entry.kind


def test_routing_key_follows_a_readable_channel() -> None:
    for entry in MALFORMED:
        try:
            channel = json.loads(entry.body).get("channel")
        except (ValueError, RecursionError, AttributeError):
            channel = None
        expected = f"case.{channel}" if isinstance(channel, str) else "case.phone"
        assert entry.routing_key == expected, entry.kind


def test_the_corpus_size_limit_is_the_contract_limit() -> None:
    assert ONE_MIB == MAX_MESSAGE_BYTES


def _doc_rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOC.read_text("utf-8").split("## The corpus", 1)[1].splitlines():
        if line.startswith("| `"):
            match = ROW.match(line)
            assert match, f"not a corpus row: {line!r}"
            rows.append((match["kind"], match["what"], match["code"]))
    return rows


def test_doc_table_lists_the_corpus_in_order() -> None:
    assert _doc_rows() == [(m.kind, m.what, m.code) for m in MALFORMED]


def test_doc_explains_every_code_of_the_corpus() -> None:
    codes = DOC.read_text("utf-8").split("## Reason codes", 1)[1].split("## The corpus", 1)[0]
    for code in {m.code for m in MALFORMED}:
        named = f"`{code}`" in codes or (
            code.startswith("missing_") and "`missing_<field>`" in codes
        )
        assert named, f"reason code {code} is not explained in {DOC.name}"
