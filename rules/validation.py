"""Turn pydantic's validation errors into short "field: problem" lines for people editing YAML."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError


def field_path(loc: Iterable[int | str]) -> str:
    """('when', 'keywords', 'any', 2) -> 'when.keywords.any[2]'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def describe(error: Any) -> str:
    """One pydantic error dict as a sentence without pydantic's jargon."""
    kind, value, msg = error["type"], error.get("input"), error["msg"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of {expected.replace(chr(39), '').replace(' or ', ', ')}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{value!r} ({type(value).__name__}): {msg[0].lower()}{msg[1:]}"
    return msg


def problems(exc: ValidationError, prefix: str, loc_offset: int = 0) -> list[str]:
    """Every error of `exc` as "<prefix>: <field>: <problem>" (loc_offset drops leading parts)."""
    return [
        f"{prefix}: {field_path(err['loc'][loc_offset:])}: {describe(err)}" for err in exc.errors()
    ]
