"""The shared corpus of malformed intake messages (contract v1, docs/malformed-messages.md).

Every entry is one KIND of bad message: its body as it travels on the wire, the AMQP properties
it travels with, and the reason code xinfang must give it (`Invalid.code` of
`dispatcher.contract.intake.parse(body, content_type)`). Bodies are all different, because the
consumer keys rejections by body digest: every JSON body carries its own external_id
(``MAL-<kind>``) unless the entry is about that field.

tests/unit/test_malformed_corpus.py checks every code against `parse` and the doc table against
this list; the contract tests replay the corpus through the consumer. Import it as
``from contract.malformed import MALFORMED`` (pyproject puts tests/ on the path).

The corpus is plain data: it does not import xinfang, so that it describes the wire contract
rather than the code under test.
"""

from __future__ import annotations

import codecs
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

ONE_MIB = 1024 * 1024  # the contract's size limit, in bytes of UTF-8

SOURCE = "cq-malformed"

# Distinctive values, so that a leak of the petitioner into a reason, header or event is found
# by substring.
PETITIONER: dict[str, str] = {
    "name": "龚慧芳",
    "id_number": "500112198803214467",
    "phone": "13907731846",
    "address": "重庆市渝北区龙溪街道金紫山小区3栋1单元8-2号",
}


@dataclass(frozen=True)
class Malformed:
    """One kind of malformed message and the reason code xinfang must give it."""

    kind: str
    what: str
    body: bytes
    code: str
    content_type: str | None = "application/json"
    content_encoding: str | None = None
    headers: dict[str, Any] | None = field(default=None, hash=False)
    routing_key: str = "case.phone"


DROP = object()  # a field value that removes the field
_RAW = "@@raw@@"  # a placeholder value that _raw() replaces by bytes that json.dumps cannot write


def case(kind: str, **fields: Any) -> dict[str, Any]:
    """A valid contract-v1 message with its own external_id (``MAL-<kind>``), then `fields`
    replaced, added or (with DROP) removed."""
    message: dict[str, Any] = {
        "schema": "xinfang.case/v1",
        "source": SOURCE,
        "external_id": f"MAL-{kind}",
        "channel": "phone",
        "received_at": "2026-05-26T09:30:00+08:00",
        "region": "500112",
        "category": "housing",
        "title": "小区加装电梯纠纷",
        "content": "一楼住户阻挠加装电梯施工，社区协调多次未果，请相关部门处理。",
        "petitioner": dict(PETITIONER),
        "people_count": 1,
        "urgent": False,
    }
    for key, value in fields.items():
        if value is DROP:
            message.pop(key, None)
        else:
            message[key] = value
    return message


def encode(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


def _json(kind: str, **fields: Any) -> bytes:
    return encode(case(kind, **fields))


def _raw(kind: str, key: str, raw: bytes, **fields: Any) -> bytes:
    """The message of `kind` with the value of `key` written as the given raw bytes."""
    body = _json(kind, **{key: _RAW}, **fields)
    placeholder = json.dumps(_RAW).encode()
    assert body.count(placeholder) == 1
    return body.replace(placeholder, raw)


def _padded(kind: str, size: int) -> bytes:
    """A message of `kind`, otherwise valid, of exactly `size` bytes (padding in extra)."""
    empty = _json(kind, extra={"pad": ""})
    return _json(kind, extra={"pad": "x" * (size - len(empty))})


def _nested(depth: int, opening: bytes, closing: bytes, inner: bytes) -> bytes:
    return opening * depth + inner + closing * depth


def _m(kind: str, what: str, code: str, body: bytes, **properties: Any) -> Malformed:
    return Malformed(kind=kind, what=what, body=body, code=code, **properties)


_REQUIRED = (
    "schema",
    "source",
    "external_id",
    "channel",
    "received_at",
    "region",
    "title",
    "content",
)

_MISSING = [
    _m(
        f"missing-{name}",
        f"required field `{name}` absent",
        f"missing_{name}",
        _json(f"missing-{name}", **{name: DROP}),
    )
    for name in _REQUIRED
]

_WRONG_TYPE = [
    _m("schema-null", "`schema` is null", "schema", _json("schema-null", schema=None)),
    _m("source-number", "`source` is a number", "source", _json("source-number", source=12345)),
    _m("source-null", "`source` is null", "source", _json("source-null", source=None)),
    _m(
        "external_id-number",
        "`external_id` is a number, not a string",
        "external_id",
        _json("external_id-number", external_id=20260526000123),
    ),
    _m(
        "external_id-array",
        "`external_id` is an array of one string",
        "external_id",
        _json("external_id-array", external_id=["MAL-external_id-array"]),
    ),
    _m("channel-null", "`channel` is null", "channel", _json("channel-null", channel=None)),
    _m(
        "channel-array",
        "`channel` is an array of one valid channel",
        "channel",
        _json("channel-array", channel=["phone"]),
    ),
    _m(
        "received_at-epoch",
        "`received_at` is a Unix time number",
        "received_at",
        _json("received_at-epoch", received_at=1779759000),
    ),
    _m(
        "received_at-null",
        "`received_at` is null",
        "received_at",
        _json("received_at-null", received_at=None),
    ),
    _m(
        "region-integer",
        "`region` is a number, not a string of digits",
        "region",
        _json("region-integer", region=500112),
    ),
    _m(
        "title-array",
        "`title` is an array of strings",
        "title",
        _json("title-array", title=["小区加装电梯", "纠纷"]),
    ),
    _m(
        "title-object",
        "`title` is an object",
        "title",
        _json("title-object", title={"zh": "小区加装电梯纠纷"}),
    ),
    _m("content-null", "`content` is null", "content", _json("content-null", content=None)),
    _m(
        "content-object",
        "`content` is an object",
        "content",
        _json("content-object", content={"text": "一楼住户阻挠加装电梯施工。"}),
    ),
    _m(
        "category-number",
        "`category` is a number",
        "category",
        _json("category-number", category=7),
    ),
    _m(
        "people_count-string",
        '`people_count` is a number as a string ("3")',
        "people_count",
        _json("people_count-string", people_count="3"),
    ),
    _m(
        "people_count-null",
        "`people_count` is null",
        "people_count",
        _json("people_count-null", people_count=None),
    ),
    _m(
        "people_count-boolean",
        "`people_count` is true",
        "people_count",
        _json("people_count-boolean", people_count=True),
    ),
    _m(
        "urgent-string-true",
        '`urgent` is the string "true"',
        "urgent",
        _json("urgent-string-true", urgent="true"),
    ),
    _m(
        "urgent-string-false",
        '`urgent` is the string "false"',
        "urgent",
        _json("urgent-string-false", urgent="false"),
    ),
    _m("urgent-integer", "`urgent` is 1", "urgent", _json("urgent-integer", urgent=1)),
    _m("urgent-null", "`urgent` is null", "urgent", _json("urgent-null", urgent=None)),
    _m(
        "petitioner-string",
        "`petitioner` is a string, not an object",
        "petitioner",
        _json("petitioner-string", petitioner=PETITIONER["name"]),
    ),
    _m(
        "petitioner-array",
        "`petitioner` is an array",
        "petitioner",
        _json("petitioner-array", petitioner=[PETITIONER]),
    ),
    _m(
        "petitioner-null",
        "`petitioner` is null",
        "petitioner",
        _json("petitioner-null", petitioner=None),
    ),
    _m(
        "petitioner-phone-integer",
        "`petitioner.phone` is a number",
        "petitioner",
        _json(
            "petitioner-phone-integer", petitioner=PETITIONER | {"phone": int(PETITIONER["phone"])}
        ),
    ),
    _m(
        "attachments-object",
        "`attachments` is an object, not an array",
        "attachments",
        _json("attachments-object", attachments={"uri": "s3://xinfang/a.jpg"}),
    ),
    _m(
        "attachments-string",
        "`attachments` is a string",
        "attachments",
        _json("attachments-string", attachments="s3://xinfang/a.jpg"),
    ),
    _m(
        "attachment-string-item",
        "an attachment is a string, not an object",
        "attachments",
        _json("attachment-string-item", attachments=["s3://xinfang/a.jpg"]),
    ),
    _m(
        "extra-array", "`extra` is an array, not an object", "extra", _json("extra-array", extra=[])
    ),
    _m(
        "extra-string",
        "`extra` is a string holding JSON",
        "extra",
        _json("extra-string", extra="{}"),
    ),
    _m("extra-null", "`extra` is null", "extra", _json("extra-null", extra=None)),
]

_VALUES = [
    _m(
        "schema-v2",
        "`schema` names another version",
        "schema",
        _json("schema-v2", schema="xinfang.case/v2"),
    ),
    _m(
        "schema-upper",
        "`schema` in upper case",
        "schema",
        _json("schema-upper", schema="XINFANG.CASE/V1"),
    ),
    _m("schema-empty", "`schema` is the empty string", "schema", _json("schema-empty", schema="")),
    _m("source-empty", "`source` is the empty string", "source", _json("source-empty", source="")),
    _m("source-blank", "`source` is only spaces", "source", _json("source-blank", source="   ")),
    _m("source-129", "`source` is 129 characters", "source", _json("source-129", source="s" * 129)),
    _m(
        "external_id-empty",
        "`external_id` is the empty string",
        "external_id",
        _json("external_id-empty", external_id=""),
    ),
    _m(
        "external_id-blank",
        "`external_id` is only a tab",
        "external_id",
        _json("external_id-blank", external_id="\t"),
    ),
    _m(
        "external_id-129",
        "`external_id` is 129 characters",
        "external_id",
        _json("external_id-129", external_id="H" * 129),
    ),
    _m(
        "external_id-nul",
        "`external_id` contains NUL (escaped \\u0000)",
        "encoding",
        _json("external_id-nul", external_id="MAL-external_id-nul\x00"),
    ),
    _m(
        "channel-unknown",
        "`channel` is not one of the five",
        "channel",
        _json("channel-unknown", channel="fax"),
        routing_key="case.fax",
    ),
    _m(
        "channel-upper",
        "`channel` in upper case",
        "channel",
        _json("channel-upper", channel="PHONE"),
        routing_key="case.PHONE",
    ),
    _m(
        "channel-empty",
        "`channel` is the empty string",
        "channel",
        _json("channel-empty", channel=""),
        routing_key="case.",
    ),
    _m(
        "received_at-year-9999",
        "`received_at` on the last second of year 9999, west of UTC: no UTC instant",
        "received_at",
        _json("received_at-year-9999", received_at="9999-12-31T23:59:59-08:00"),
    ),
    _m(
        "received_at-year-1",
        "`received_at` in year 1",
        "received_at",
        _json("received_at-year-1", received_at="0001-01-01T00:00:00+08:00"),
    ),
    _m(
        "received_at-year-2200",
        "`received_at` in 2200, beyond any clock",
        "received_at",
        _json("received_at-year-2200", received_at="2200-01-01T08:00:00+08:00"),
    ),
    _m(
        "received_at-no-offset",
        "`received_at` without a UTC offset",
        "received_at",
        _json("received_at-no-offset", received_at="2026-05-26T09:30:00"),
    ),
    _m(
        "received_at-date-only",
        "`received_at` is a bare date",
        "received_at",
        _json("received_at-date-only", received_at="2026-05-26"),
    ),
    _m(
        "received_at-feb-30",
        "`received_at` on 30 February",
        "received_at",
        _json("received_at-feb-30", received_at="2026-02-30T09:30:00+08:00"),
    ),
    _m(
        "received_at-hour-25",
        "`received_at` at hour 25",
        "received_at",
        _json("received_at-hour-25", received_at="2026-05-26T25:30:00+08:00"),
    ),
    _m(
        "received_at-offset-no-colon",
        "`received_at` with offset +0800 (not RFC 3339)",
        "received_at",
        _json("received_at-offset-no-colon", received_at="2026-05-26T09:30:00+0800"),
    ),
    _m(
        "received_at-trailing-newline",
        "`received_at` followed by a newline",
        "received_at",
        _json("received_at-trailing-newline", received_at="2026-05-26T09:30:00+08:00\n"),
    ),
    _m(
        "received_at-words",
        "`received_at` is words",
        "received_at",
        _json("received_at-words", received_at="yesterday morning"),
    ),
    _m("region-5", "`region` has 5 digits", "region", _json("region-5", region="50011")),
    _m("region-7", "`region` has 7 digits", "region", _json("region-7", region="5001121")),
    _m("region-13", "`region` has 13 digits", "region", _json("region-13", region="5001120010011")),
    _m(
        "region-letters",
        "`region` has a letter",
        "region",
        _json("region-letters", region="50011a"),
    ),
    _m(
        "region-fullwidth",
        "`region` in full-width digits",
        "region",
        _json("region-fullwidth", region="５００１１２"),
    ),
    _m(
        "region-trailing-newline",
        "`region` followed by a newline",
        "region",
        _json("region-trailing-newline", region="500112\n"),
    ),
    _m(
        "category-upper",
        "`category` is not a lower-case key",
        "category",
        _json("category-upper", category="Housing"),
    ),
    _m("title-empty", "`title` is the empty string", "title", _json("title-empty", title="")),
    _m("title-blank", "`title` is only white space", "title", _json("title-blank", title=" \t ")),
    _m("title-201", "`title` is 201 characters", "title", _json("title-201", title="题" * 201)),
    _m(
        "content-empty",
        "`content` is the empty string",
        "content",
        _json("content-empty", content=""),
    ),
    _m(
        "content-blank",
        "`content` is only ideographic spaces and newlines",
        "content",
        _json("content-blank", content="\u3000\n\u3000"),
    ),
    _m(
        "content-20001",
        "`content` is 20,001 characters",
        "content",
        _json("content-20001", content="字" * 20_001),
    ),
    _m(
        "people_count-zero",
        "`people_count` is 0",
        "people_count",
        _json("people_count-zero", people_count=0),
    ),
    _m(
        "people_count-negative",
        "`people_count` is -3",
        "people_count",
        _json("people_count-negative", people_count=-3),
    ),
    _m(
        "people_count-fraction",
        "`people_count` is 1.5",
        "people_count",
        _json("people_count-fraction", people_count=1.5),
    ),
    _m(
        "people_count-float",
        "`people_count` is 3.0 (a number, not an integer)",
        "people_count",
        _json("people_count-float", people_count=3.0),
    ),
    _m(
        "people_count-exponent",
        "`people_count` is written 1E0",
        "people_count",
        _raw("people_count-exponent", "people_count", b"1E0"),
    ),
    _m(
        "people_count-huge",
        "`people_count` is 1e400 (infinite as a double)",
        "people_count",
        _raw("people_count-huge", "people_count", b"1e400"),
    ),
    _m(
        "people_count-over-max",
        "`people_count` is 100,001",
        "people_count",
        _json("people_count-over-max", people_count=100_001),
    ),
    _m(
        "unknown-field",
        "an unknown top-level field",
        "unknown_field",
        _json("unknown-field", priority="high"),
    ),
    _m(
        "unknown-field-case",
        "a known field name in another case (`Title`)",
        "unknown_field",
        _json("unknown-field-case", Title="小区加装电梯纠纷"),
    ),
    _m(
        "petitioner-unknown-field",
        "`petitioner` with an unknown field",
        "petitioner",
        _json("petitioner-unknown-field", petitioner=PETITIONER | {"nickname": "芳"}),
    ),
    _m(
        "attachment-without-uri",
        "an attachment without `uri`",
        "missing_uri",
        _json("attachment-without-uri", attachments=[{"sha256": "ab" * 32}]),
    ),
    _m(
        "attachment-bad-sha256",
        "an attachment's `sha256` in upper case",
        "attachments",
        _json(
            "attachment-bad-sha256",
            attachments=[{"uri": "s3://xinfang/a.jpg", "sha256": "AB" * 32}],
        ),
    ),
    _m(
        "attachments-101",
        "101 attachments (at most 100)",
        "attachments",
        _json(
            "attachments-101", attachments=[{"uri": f"s3://xinfang/{n}.jpg"} for n in range(101)]
        ),
    ),
    _m(
        "lone-surrogate",
        "`title` holds an escaped lone surrogate \\ud800",
        "encoding",
        _raw("lone-surrogate", "title", b'"\\ud800\\u5c0f\\u533a"'),
    ),
    _m(
        "nul-in-content",
        "`content` contains NUL (escaped \\u0000)",
        "encoding",
        _json("nul-in-content", content="一楼住户\x00阻挠加装电梯施工。"),
    ),
    _m(
        "nul-in-extra-key",
        "a key in `extra` contains NUL (escaped \\u0000)",
        "encoding",
        _json("nul-in-extra-key", extra={"call\x00id": "CALL0001"}),
    ),
]

_ENVELOPE = [
    _m("empty-body", "an empty body", "json", b""),
    _m("whitespace-only", "a body of only white space", "json", b" \r\n\t \n"),
    _m("not-json", "plain text", "json", "这不是JSON，是一封信。".encode()),
    _m(
        "truncated",
        "a message cut off in the middle of a field name",
        "json",
        _json("truncated").split(b'tle": ')[0],
    ),
    _m(
        "trailing-garbage",
        "a message followed by more text",
        "json",
        _json("trailing-garbage") + b" ok",
    ),
    _m(
        "two-messages",
        "two messages in one body, one per line",
        "json",
        _json("two-messages-1") + b"\n" + _json("two-messages-2"),
    ),
    _m(
        "trailing-comma",
        "a comma after the last field",
        "json",
        _json("trailing-comma")[:-1] + b", }",
    ),
    _m(
        "single-quotes",
        "Python repr instead of JSON (single quotes)",
        "json",
        repr(case("single-quotes")).encode(),
    ),
    _m(
        "js-comment",
        "a JavaScript comment before the message",
        "json",
        b"// from cq-malformed\n" + _json("js-comment"),
    ),
    _m(
        "raw-control-character",
        "an unescaped NUL byte inside a string",
        "json",
        _json("raw-control-character").replace("纠纷".encode(), b"\x00"),
    ),
    _m(
        "json-array",
        "a JSON array holding a valid message",
        "message",
        encode([case("json-array")]),
    ),
    _m(
        "json-string",
        "a JSON string holding a message",
        "message",
        encode(json.dumps(case("json-string"), ensure_ascii=False)),
    ),
    _m("json-number", "a JSON number", "message", b"20260526"),
    _m("json-null", "JSON null", "message", b"null"),
    _m("json-true", "JSON true", "message", b"true"),
    _m("empty-object", "an empty JSON object", "missing_channel", b"{}"),
    _m(
        "duplicate-key",
        "`external_id` given twice",
        "json",
        _json("duplicate-key")[:-1] + b', "external_id": "MAL-duplicate-key-again"}',
    ),
    _m(
        "duplicate-key-escaped",
        "`title` given twice, once spelled with an escape",
        "json",
        _json("duplicate-key-escaped")[:-1] + b', "t\\u0069tle": "another title"}',
    ),
    _m(
        "nested-duplicate-key",
        "a key given twice inside `petitioner`",
        "json",
        _raw("nested-duplicate-key", "petitioner", b'{"name": "a", "name": "b"}'),
    ),
    _m("nan", "`people_count` is NaN", "json", _raw("nan", "people_count", b"NaN")),
    _m(
        "infinity",
        "`people_count` is Infinity",
        "json",
        _raw("infinity", "people_count", b"Infinity"),
    ),
    _m(
        "minus-infinity",
        "`extra.score` is -Infinity",
        "json",
        _raw("minus-infinity", "extra", b'{"score": -Infinity}'),
    ),
    _m(
        "huge-integer",
        "a 5,000-digit integer in `extra`",
        "json",
        _raw("huge-integer", "extra", b'{"n": ' + b"9" * 5000 + b"}"),
    ),
    _m(
        "deep-nesting-arrays",
        "10,000 nested arrays in `extra`",
        "json",
        _raw("deep-nesting-arrays", "extra", b'{"x": ' + _nested(10_000, b"[", b"]", b"") + b"}"),
    ),
    _m(
        "deep-nesting-objects",
        "10,000 nested objects in `extra`",
        "json",
        _raw("deep-nesting-objects", "extra", _nested(10_000, b'{"x": ', b"}", b"{}")),
    ),
    _m(
        "nesting-in-the-recursion-band",
        "600 nested arrays in `extra`: decodable, but too deep to validate",
        "too_deep",
        _raw(
            "nesting-in-the-recursion-band",
            "extra",
            b'{"x": ' + _nested(600, b"[", b"]", b"") + b"}",
        ),
    ),
    _m(
        "nesting-33-levels",
        "objects nested 33 deep in all (`extra` holds 32), one more than allowed",
        "too_deep",
        _raw("nesting-33-levels", "extra", _nested(31, b'{"x": ', b"}", b"{}")),
    ),
    _m(
        "not-utf8-gbk",
        "GBK-encoded Chinese",
        "encoding",
        _json("not-utf8-gbk").replace("小区".encode(), "小区".encode("gbk")),
    ),
    _m(
        "utf16-bom",
        "the message in UTF-16 with a byte-order mark",
        "encoding",
        json.dumps(case("utf16-bom"), ensure_ascii=False).encode("utf-16"),
    ),
    _m(
        "utf16-no-bom",
        "the message (ASCII escapes only) in UTF-16LE without BOM",
        "json",
        json.dumps(case("utf16-no-bom")).encode("utf-16-le"),
    ),
    _m(
        "utf32",
        "the message in UTF-32",
        "encoding",
        json.dumps(case("utf32"), ensure_ascii=False).encode("utf-32"),
    ),
    _m(
        "utf8-bom",
        "a UTF-8 byte-order mark before the message",
        "json",
        codecs.BOM_UTF8 + _json("utf8-bom"),
    ),
    _m(
        "overlong-utf8",
        "an overlong UTF-8 sequence (0xC0 0xAF for /)",
        "encoding",
        _json("overlong-utf8").replace(b"case/v1", b"case\xc0\xafv1"),
    ),
    _m(
        "utf8-surrogate",
        "a surrogate encoded as UTF-8 bytes (0xED 0xA0 0x80)",
        "encoding",
        _json("utf8-surrogate").replace("纠纷".encode(), b"\xed\xa0\x80"),
    ),
    _m(
        "truncated-utf8",
        "a body cut inside a multi-byte character",
        "encoding",
        _json("truncated-utf8").split("纠纷".encode())[0] + "纠".encode()[:2],
    ),
    _m(
        "over-1-mib",
        "a valid message of 1 MiB + 1 byte",
        "too_large",
        _padded("over-1-mib", ONE_MIB + 1),
    ),
    _m(
        "over-1-mib-not-json",
        "1 MiB + 1 byte of something that is not JSON either",
        "too_large",
        b"\xff" * (ONE_MIB + 1),
    ),
]

_PROPERTIES = [
    _m(
        "text-plain",
        "a valid message sent as text/plain",
        "content_type",
        _json("text-plain"),
        content_type="text/plain",
    ),
    _m(
        "application-xml",
        "XML sent as application/xml",
        "content_type",
        b'<case schema="xinfang.case/v1" external_id="MAL-application-xml"/>',
        content_type="application/xml",
    ),
    _m(
        "content-type-empty",
        "an empty content type",
        "content_type",
        _json("content-type-empty"),
        content_type="",
    ),
    _m(
        "octet-stream",
        "a valid message sent as application/octet-stream",
        "content_type",
        _json("octet-stream"),
        content_type="application/octet-stream",
    ),
    _m(
        "text-json",
        "a valid message sent as text/json",
        "content_type",
        _json("text-json"),
        content_type="text/json",
    ),
    _m(
        "problem-json",
        "a valid message sent as application/problem+json",
        "content_type",
        _json("problem-json"),
        content_type="application/problem+json",
    ),
    _m(
        "no-content-type-not-json",
        "no content type and a body that is not JSON",
        "json",
        b"external_id=MAL-no-content-type-not-json&channel=phone",
        content_type=None,
    ),
    _m(
        "charset-utf16",
        "UTF-16 sent as `application/json; charset=utf-16`",
        "encoding",
        json.dumps(case("charset-utf16"), ensure_ascii=False).encode("utf-16"),
        content_type="application/json; charset=utf-16",
    ),
    _m(
        "encoding-utf8-invalid-body",
        "content_encoding utf-8 on a schema-invalid message",
        "people_count",
        _json("encoding-utf8-invalid-body", people_count="2"),
        content_encoding="utf-8",
    ),
    _m(
        "encoding-gzip-compressed",
        "a gzip-compressed valid message (content_encoding gzip)",
        "encoding",
        gzip.compress(_json("encoding-gzip-compressed"), mtime=0),
        content_encoding="gzip",
    ),
    _m(
        "encoding-gzip-plain",
        "content_encoding gzip on a plain, schema-invalid body",
        "region",
        _json("encoding-gzip-plain", region="5001"),
        content_encoding="gzip",
    ),
    _m(
        "encoding-latin1-on-utf8",
        "content_encoding latin-1 on UTF-8 bytes (title too long)",
        "title",
        _json("encoding-latin1-on-utf8", title="Café " * 41),
        content_encoding="latin-1",
    ),
    _m(
        "encoding-latin1-bytes",
        "Latin-1 bytes with content_encoding latin-1",
        "encoding",
        encode(case("encoding-latin1-bytes", title="Café au lait")).replace(
            "Café".encode(), "Café".encode("latin-1")
        ),
        content_encoding="latin-1",
    ),
    _m(
        "forged-reason-headers",
        "an invalid message that already carries reason headers",
        "channel",
        _json("forged-reason-headers", channel="sms"),
        routing_key="case.sms",
        headers={"x-xinfang-reason-code": "none", "x-xinfang-reason": "already checked"},
    ),
]

MALFORMED: list[Malformed] = [*_MISSING, *_WRONG_TYPE, *_VALUES, *_ENVELOPE, *_PROPERTIES]

BY_KIND: dict[str, Malformed] = {m.kind: m for m in MALFORMED}
