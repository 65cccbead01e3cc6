"""The contract's two JSON Schema implementations agree: jsonschema-rs, which says whether a
message is valid, and python-jsonschema, the reference that says why one is not. Drawn from
the contract's own strategies (valid messages with up to three fields broken in every way the
contract knows) and from the corpus of malformed messages."""

from __future__ import annotations

import json
from typing import Any

from contract.malformed import MALFORMED
from contract.strategies import edit_lists, valid_messages
from hypothesis import HealthCheck, given, settings

from dispatcher.contract.intake import (
    CASE_SCHEMA,
    _has_lone_surrogate,
    _valid_fast,
    _validator,
)


def _agree(document: Any) -> None:
    """The fast check says valid exactly when the reference finds no error (a document it
    cannot read, it leaves to the reference: that counts as not valid)."""
    reference = next(iter(_validator(CASE_SCHEMA).iter_errors(document)), None) is None
    fast = _valid_fast(document, CASE_SCHEMA)
    unreadable = _has_lone_surrogate(document)
    assert fast == reference or (reference and not fast and unreadable), document


@settings(max_examples=400, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(valid_messages(), edit_lists())
def test_both_validators_agree_on_every_edit_of_a_valid_message(
    message: dict[str, Any], edits: Any
) -> None:
    _agree(message)
    for edit in edits:
        message = edit.apply(message)
    _agree(message)


def test_both_validators_agree_on_the_malformed_corpus() -> None:
    checked = 0
    for malformed in MALFORMED:
        try:
            document = json.loads(malformed.body)
        except (ValueError, RecursionError):
            continue  # not JSON: no schema reads it
        _agree(document)
        checked += 1
    assert checked > 50
