"""Validation of intake messages against contract v1.

The JSON Schema file beside this module is the validator actually used: there is no second,
hand-written copy of the rules to drift from it. What a schema cannot say (size, encoding,
duplicate keys, a real calendar date) is checked here before it.

Two implementations of JSON Schema read it: jsonschema-rs (compiled, some ten times faster)
says whether a document is valid, and for one it finds invalid the reference implementation
(python-jsonschema) says why, in the words and codes the contract documents. Should the two
ever disagree on a document, the reference's verdict stands for it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker

from dispatcher.domain.clock import parse_timestamp

MAX_MESSAGE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # of nested arrays and objects; the contract's own structure needs 3
# Receipt and command times a clock can count from: deadlines are computed from them.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
SCHEMA_ID = "xinfang.case/v1"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message: where (a field path as the reasons write it,
    `petitioner/phone`; `message` for the whole), a code as Invalid's, and a sentence."""

    field: str
    code: str
    reason: str


@dataclass(frozen=True)
class Invalid:
    """Why a message is not a valid case: a stable code for metrics, a sentence for people,
    and, for what the schema found, each problem on its own (an HTTP client's field errors)."""

    code: str
    reason: str
    problems: tuple[Problem, ...] = dataclasses.field(default=(), compare=False)

    def each(self) -> tuple[Problem, ...]:
        """The problems one by one; a message refused as a whole is one problem."""
        return self.problems or (Problem(_where_said(self.reason), self.code, self.reason),)


def _where_said(reason: str) -> str:
    """The field a reason begins with ("received_at: …"), or `message`."""
    prefix, said, _rest = reason.partition(": ")
    return prefix if said and " " not in prefix else "message"


@dataclass(frozen=True)
class Valid:
    case: dict[str, Any]


CASE_SCHEMA = "case-v1.schema.json"
COMMAND_SCHEMA = "command-v1.schema.json"


def schema_text(name: str = CASE_SCHEMA) -> str:
    return resources.files(__package__).joinpath(name).read_text("utf-8")


@cache
def _validator(name: str = CASE_SCHEMA) -> Draft202012Validator:
    schema = json.loads(schema_text(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@cache
def _fast_validator(name: str = CASE_SCHEMA) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(json.loads(schema_text(name)), validate_formats=True)


def _valid_fast(document: Any, schema: str) -> bool:
    try:
        return bool(_fast_validator(schema).is_valid(document))
    except (ValueError, UnicodeError):  # text it cannot take (a lone surrogate): the reference
        return False


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(
    body: bytes | str, content_type: str | None = "application/json", schema: str = CASE_SCHEMA
) -> Valid | Invalid:
    """Decode and validate one message body against a contract schema (the case contract by
    default). Never raises on bad input."""
    if content_type is not None and _media_type(content_type) != "application/json":
        return Invalid("content_type", f"content type {content_type!r} is not application/json")
    try:
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    except UnicodeEncodeError as error:
        return Invalid("encoding", f"message is not UTF-8: {error.reason}")
    if len(raw) > MAX_MESSAGE_BYTES:
        return Invalid("too_large", f"message is {len(raw)} bytes, more than {MAX_MESSAGE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return Invalid("encoding", f"message is not UTF-8: {error.reason} at byte {error.start}")
    floats = _Floats()
    try:
        document = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_reject_constant,
            parse_float=floats.parse,
        )
    except (ValueError, RecursionError) as error:
        return Invalid("json", f"message is not JSON: {error}")
    # What the text rules out need not be looked for in the document (the walks below cost
    # more than the schema): no nesting deeper than its brackets, no NUL and no surrogate
    # without their escapes (JSON strings cannot hold them raw), no infinity without a
    # number that overflowed.
    if _brackets(text) > MAX_DEPTH and _depth(document) > MAX_DEPTH:
        return Invalid("too_deep", f"message: nested deeper than {MAX_DEPTH} levels")
    scan = _Scan(
        nul="\\u0000" in text,
        non_finite=floats.overflowed,
        surrogate=_SURROGATE_ESCAPE.search(text) is not None,
    )
    return validate(document, schema, scan)


class _Floats:
    """json.loads's float parser, noting whether a number overflowed to infinity."""

    def __init__(self) -> None:
        self.overflowed = False

    def parse(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            self.overflowed = True
        return value


@dataclass(frozen=True)
class _Scan:
    """Which walks of a decoded document can find something (both, unless its text says)."""

    nul: bool = True
    non_finite: bool = True
    surrogate: bool = True


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _brackets(text: str) -> int:
    return text.count("[") + text.count("{")


def _depth(document: Any) -> int:
    """How deeply arrays and objects nest, counted without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        children = (
            value.values()
            if isinstance(value, dict)
            else value
            if isinstance(value, list)
            else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def validate(
    document: Any, schema: str = CASE_SCHEMA, scan: _Scan | None = None
) -> Valid | Invalid:
    """Validate an already decoded document against a contract schema."""
    if not _valid_fast(document, schema):
        validator = _validator(schema)
        errors = _first_error_per_field(validator.iter_errors(document))
        if errors:
            reason = "; ".join(_sentences(errors)[:MAX_REASONS])
            return Invalid(_code_of(errors[0], validator), reason, _problems(errors, validator))
    return _beyond_schema(document, scan or _Scan()) or Valid(document)


def _beyond_schema(document: dict[str, Any], scan: _Scan) -> Invalid | None:
    """What JSON Schema lets through but the contract forbids."""
    for field in ("received_at", "at"):
        if field in document and (invalid := _time_invalid(field, document[field])):
            return invalid
    if isinstance(document.get("people_count"), float):  # JSON Schema counts 3.0 as integer
        return Invalid("people_count", "people_count: must be of type integer, not number")
    # 1e400 decodes to inf, which no JSON can hold: PostgreSQL refuses the case it would be
    # stored in.
    if scan.non_finite and (holder := _non_finite_field(document)) is not None:
        return Invalid(holder, f"{holder}: holds a number too large for a double")
    if scan.surrogate and _has_lone_surrogate(document):
        # An escaped lone surrogate ("\ud800") decodes to text no database can store.
        return Invalid("encoding", "message: contains a lone UTF-16 surrogate escape")
    if scan.nul and _has_nul(document):
        # PostgreSQL text cannot hold NUL: refuse it here, not in the database.
        return Invalid("encoding", "message: contains a NUL character (\\u0000)")
    return None


def _has_lone_surrogate(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _time_invalid(field: str, text: str) -> Invalid | None:
    try:
        at = parse_timestamp(text)
    except ValueError:
        return Invalid(field, f"{field}: {NOT_A_DATE_TIME}")
    try:
        within = EARLIEST <= at < LATEST
    except OverflowError:  # 9999-12-31T23:59:59-08:00 has no UTC instant
        within = False
    if not within:
        return Invalid(field, f"{field}: must lie from {EARLIEST.year} to {LATEST.year - 1}")
    return None


def _non_finite_field(document: dict[str, Any]) -> str | None:
    """The top-level field holding a number that decoded to infinity, if any."""
    for field, value in document.items():
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, float) and not math.isfinite(item):
                return field
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def _has_nul(document: Any) -> bool:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def readable_id(value: object, limit: int) -> str | None:
    """An id from a message being rejected, when it can be stored and shown: a non-empty
    string of at most `limit` characters without NUL or lone surrogates."""
    if not isinstance(value, str) or not 0 < len(value) <= limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _first_error_per_field(errors: Any) -> list[Any]:
    by_path: dict[str, Any] = {}
    for error in errors:
        where = "/".join(map(str, error.absolute_path))
        by_path.setdefault(f"{where}|{error.validator}|{error.message}", error)
    return [by_path[key] for key in sorted(by_path)]


def _field_of(error: Any) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":
        return str(error.message.split("'")[1])
    if error.validator == "additionalProperties" and not path:
        return "unknown_field"
    return str(path[0]) if path else "message"


def _code_of(error: Any, validator: Draft202012Validator) -> str:
    """A bounded code (a top-level field name or a kind), safe as a metric label."""
    field = _field_of(error)
    if error.validator == "required":
        return f"missing_{field}"
    known = field in validator.schema["properties"] or field == "unknown_field"
    return field if known else "message"


MAX_REASONS = 5  # sentences in a reason; the code names the first problem anyway

DATE_TIME_EXAMPLE = "2026-05-26T09:30:00+08:00"
NOT_A_DATE_TIME = f"is not a valid date-time (RFC 3339 with an offset, like {DATE_TIME_EXAMPLE})"
_DATE_TIME = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
    "([Zz]|[+-][0-9]{2}:[0-9]{2})(?![\\s\\S])"
)
# What each pattern of case-v1 and command-v1 asks for, in words: a reason never shows a
# regular expression. tests/unit/test_contract.py checks that every pattern of both schema
# files is here. The date-time pattern says what its format says, so the two are told once.
PATTERN_MEANINGS = {
    "\\S": "must hold a character other than white space",
    _DATE_TIME: NOT_A_DATE_TIME,
    "^([0-9]{6}|[0-9]{9}|[0-9]{12})(?![\\s\\S])": "must be 6, 9 or 12 digits, like 500103",
    "^[a-z][a-z0-9_]*(?![\\s\\S])": (
        "must be a taxonomy key: a lower-case letter, then lower-case letters, digits or _,"
        " like housing"
    ),
    "^[0-9a-f]{64}(?![\\s\\S])": "must be 64 lower-case hexadecimal digits (a SHA-256)",
}


def _sentences(errors: list[Any]) -> list[str]:
    """One sentence per problem, in the errors' order: the missing fields of one object in
    one sentence, and a sentence said twice (a date-time's format and pattern) once."""
    missing: dict[str, list[str]] = {}  # where -> its missing fields
    told: list[tuple[str, str | None]] = []  # (where, sentence); None: its missing fields
    empty = {_where(e) for e in errors if e.validator == "minLength"}
    for error in errors:
        where = _where(error)
        if error.validator == "pattern" and where in empty:
            continue  # an empty string fails "\\S" as well: "must not be empty" says it
        if error.validator != "required":
            told.append((where, _describe(error)))
        elif where not in missing:
            missing[where] = [_field_of(error)]
            told.append((where, None))
        else:
            missing[where].append(_field_of(error))
    said = [sentence or _missing(where, missing[where]) for where, sentence in told]
    return list(dict.fromkeys(said))


MAX_PROBLEMS = 20  # told one by one; the reason says the first few anyway


def _problems(errors: list[Any], validator: Draft202012Validator) -> tuple[Problem, ...]:
    """One problem per error, each naming its own field (a missing one by its own path)."""
    empty = {_where(e) for e in errors if e.validator == "minLength"}
    found: list[Problem] = []
    for error in errors:
        where = _where(error)
        if error.validator == "pattern" and where in empty:
            continue  # "must not be empty" says it
        if error.validator == "required":
            name = _field_of(error)
            path = name if where == "message" else f"{where}/{name}"
            found.append(Problem(path, _code_of(error, validator), _missing(where, [name])))
        else:
            found.append(Problem(where, _code_of(error, validator), _describe(error)))
    return tuple(dict.fromkeys(found))[:MAX_PROBLEMS]


def _missing(where: str, names: list[str]) -> str:
    return f"{where}: missing required {_noun(len(names), 'field')} {', '.join(names)}"


def _where(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "message"


def _describe(error: Any) -> str:
    """One sentence about one error, saying what is expected. It never echoes the offending
    value: a value may be a petitioner's phone number or name, and reasons travel in headers
    and events."""
    return f"{_where(error)}: {_expected(error)}"


def _expected(error: Any) -> str:
    keyword, value = str(error.validator), error.validator_value
    if keyword == "additionalProperties":  # names keys, never values
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown {_noun(len(unknown), 'field')} {', '.join(map(repr, unknown))}"
    if keyword == "enum":
        return f"must be one of {', '.join(map(str, value))}"
    if keyword == "const":
        return f"must be {value!r}"
    if keyword == "type":
        return f"must be of type {value}, not {_json_type(error.instance)}"
    if keyword == "format" and value == "date-time":
        return NOT_A_DATE_TIME
    if keyword == "pattern":
        return PATTERN_MEANINGS.get(str(value), "is not of the form the contract asks for")
    if isinstance(value, int) and keyword in _BOUNDS:
        return _bound(keyword, value)
    return f"is not what the contract allows ({keyword})"


_BOUNDS = {
    "minLength": ("must be at least", "character", " long"),
    "maxLength": ("must be at most", "character", " long"),
    "minimum": ("must be at least", "", ""),
    "maximum": ("must be at most", "", ""),
    "maxItems": ("must hold at most", "item", ""),
    "maxProperties": ("must hold at most", "field", ""),
}


def _bound(keyword: str, limit: int) -> str:
    """'must be at most 200 characters long', 'must be at least 1', 'must not be empty'."""
    if keyword == "minLength" and limit == 1:
        return "must not be empty"
    phrase, unit, tail = _BOUNDS[keyword]
    counted = f"{limit} {_noun(limit, unit)}" if unit else str(limit)
    return f"{phrase} {counted}{tail}"


def _noun(count: int, noun: str) -> str:
    return noun if count == 1 else f"{noun}s"


def _json_type(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
