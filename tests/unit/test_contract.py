"""Contract v1 (intake): what is rejected, with which code and reason, and what is accepted.

Two layers decide validity. `parse` first checks what a JSON Schema cannot see: the content
type, the size (1 MiB), the encoding (UTF-8), duplicate keys and the non-JSON constants NaN and
Infinity. Only then does `validate` apply the schema file, plus a real-calendar check of
`received_at`. The agreement test below therefore covers documents only (JSON that decodes
without those body-level problems): for them, a plain Draft 2020-12 validator built from the
schema file must say exactly what `validate` says.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

import dispatcher.contract
import dispatcher.demo
from dispatcher.contract.intake import (
    MAX_DEPTH,
    MAX_MESSAGE_BYTES,
    Invalid,
    Valid,
    parse,
    validate,
)
from dispatcher.demo.sample import CATEGORIES, follow_ups, generate

SCHEMA_FILE = Path(dispatcher.contract.__file__).parent / "case-v1.schema.json"
SAMPLE_FILE = Path(dispatcher.demo.__file__).parent / "data" / "sample-cases.jsonl"
REQUIRED = (
    "schema",
    "source",
    "external_id",
    "channel",
    "received_at",
    "region",
    "title",
    "content",
)
DROP = object()  # a change that removes the field

MINIMAL: dict[str, Any] = {
    "schema": "xinfang.case/v1",
    "source": "cq-12345",
    "external_id": "HL2026052600123",
    "channel": "phone",
    "received_at": "2026-05-26T09:30:00+08:00",
    "region": "500103",
    "title": "小区加装电梯纠纷",
    "content": "我们小区一楼住户阻挠加装电梯施工，社区协调多次未果，请相关部门处理。",
}

FULL: dict[str, Any] = MINIMAL | {
    "category": "housing",
    "petitioner": {
        "name": "测试人",
        "id_number": "500103199001011234",
        "phone": "13800000000",
        "address": "重庆市渝中区解放碑街道1号",
    },
    "people_count": 12,
    "urgent": True,
    "attachments": [
        {
            "uri": "s3://xinfang-attachments/cq-12345/HL2026052600123/1.jpg",
            "sha256": "ab" * 32,
            "media_type": "image/jpeg",
        }
    ],
    "extra": {"call_id": "CALL0001", "nested": {"any": ["thing", 1, None]}},
}


def doc(**changes: Any) -> dict[str, Any]:
    """MINIMAL with fields replaced, added or (with DROP) removed."""
    document = copy.deepcopy(MINIMAL)
    for key, value in changes.items():
        if value is DROP:
            document.pop(key, None)
        else:
            document[key] = value
    return document


def body(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


# (id, document, expected code, a word the reason must contain)
BAD_DOCUMENTS: list[tuple[str, Any, str, str]] = [
    *[(f"missing-{f}", doc(**{f: DROP}), f"missing_{f}", f) for f in REQUIRED],
    ("schema-v2", doc(schema="xinfang.case/v2"), "schema", "schema"),
    ("schema-missing-version", doc(schema="xinfang.case"), "schema", "schema"),
    ("source-empty", doc(source=""), "source", "source"),
    ("source-blank", doc(source="   "), "source", "source"),
    ("source-129", doc(source="s" * 129), "source", "source"),
    ("source-number", doc(source=12345), "source", "source"),
    ("external_id-empty", doc(external_id=""), "external_id", "external_id"),
    ("external_id-129", doc(external_id="H" * 129), "external_id", "external_id"),
    ("channel-unknown", doc(channel="fax"), "channel", "channel"),
    ("channel-upper", doc(channel="PHONE"), "channel", "channel"),
    ("received_at-no-offset", doc(received_at="2026-05-26T09:30:00"), "received_at", "received_at"),
    ("received_at-not-a-date", doc(received_at="yesterday morning"), "received_at", "received_at"),
    (
        "received_at-feb-30",
        doc(received_at="2026-02-30T09:30:00+08:00"),
        "received_at",
        "received_at",
    ),
    (
        "received_at-hour-25",
        doc(received_at="2026-05-26T25:30:00+08:00"),
        "received_at",
        "received_at",
    ),
    ("received_at-date-only", doc(received_at="2026-05-26"), "received_at", "received_at"),
    ("received_at-epoch", doc(received_at=1779759000), "received_at", "received_at"),
    ("region-5", doc(region="50010"), "region", "region"),
    ("region-7", doc(region="5001031"), "region", "region"),
    ("region-13", doc(region="5001030010011"), "region", "region"),
    ("region-letters", doc(region="50010a"), "region", "region"),
    ("region-integer", doc(region=500103), "region", "region"),
    ("category-upper", doc(category="Housing"), "category", "category"),
    ("category-empty", doc(category=""), "category", "category"),
    ("title-empty", doc(title=""), "title", "title"),
    ("title-blank", doc(title=" \t "), "title", "title"),
    ("title-201", doc(title="题" * 201), "title", "title"),
    ("content-20001", doc(content="字" * 20_001), "content", "content"),
    ("content-null", doc(content=None), "content", "content"),
    ("unknown-field", doc(priority="high"), "unknown_field", "priority"),
    ("people_count-string", doc(people_count="3"), "people_count", "people_count"),
    ("people_count-zero", doc(people_count=0), "people_count", "people_count"),
    ("people_count-fraction", doc(people_count=1.5), "people_count", "people_count"),
    ("people_count-boolean", doc(people_count=True), "people_count", "people_count"),
    ("urgent-string", doc(urgent="true"), "urgent", "urgent"),
    ("urgent-integer", doc(urgent=1), "urgent", "urgent"),
    ("petitioner-string", doc(petitioner="测试人"), "petitioner", "petitioner"),
    ("petitioner-unknown-field", doc(petitioner={"nickname": "x"}), "petitioner", "nickname"),
    ("attachments-object", doc(attachments={"uri": "s3://a"}), "attachments", "attachments"),
    ("attachment-without-uri", doc(attachments=[{"sha256": "ab" * 32}]), "missing_uri", "uri"),
    (
        "attachment-bad-sha256",
        doc(attachments=[{"uri": "s3://a", "sha256": "AB" * 32}]),
        "attachments",
        "sha256",
    ),
    (
        "attachment-short-sha256",
        doc(attachments=[{"uri": "s3://a", "sha256": "abc"}]),
        "attachments",
        "sha256",
    ),
    ("extra-array", doc(extra=[]), "extra", "extra"),
    ("extra-string", doc(extra="{}"), "extra", "extra"),
    ("top-level-array", [MINIMAL], "message", "message"),
    ("top-level-string", "xinfang.case/v1", "message", "message"),
    ("top-level-null", None, "message", "message"),
]

_dup = body(MINIMAL).decode()[:-1] + ', "title": "又一个标题"}'
# (id, body, content type, expected code, a phrase the reason must contain)
BAD_BODIES: list[tuple[str, bytes, str | None, str, str]] = [
    ("not-json", b'{"schema": "xinfang.case/v1",', "application/json", "json", "not JSON"),
    ("empty-body", b"", "application/json", "json", "not JSON"),
    (
        "not-utf8",
        body(MINIMAL).replace("小区".encode(), "小区".encode("gbk")),
        "application/json",
        "encoding",
        "UTF-8",
    ),
    ("duplicate-key", _dup.encode(), "application/json", "json", "duplicate key 'title'"),
    (
        "nested-duplicate-key",
        body(doc(petitioner={})).replace(
            b'"petitioner": {}', b'"petitioner": {"name": "a", "name": "b"}'
        ),
        "application/json",
        "json",
        "duplicate key 'name'",
    ),
    ("nan", body(doc(people_count=7)).replace(b": 7", b": NaN"), "application/json", "json", "NaN"),
    (
        "infinity",
        body(doc(people_count=7)).replace(b": 7", b": Infinity"),
        "application/json",
        "json",
        "Infinity",
    ),
    (
        "over-1-mib",
        body(doc(extra={"pad": "x" * MAX_MESSAGE_BYTES})),
        "application/json",
        "too_large",
        "bytes",
    ),
    ("text-plain", body(MINIMAL), "text/plain", "content_type", "content type"),
    ("xml", b"<case/>", "application/xml", "content_type", "content type"),
]

GOOD_DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("minimal", MINIMAL),
    ("full", FULL),
    ("cjk-20000", doc(content="信访事项内容" * 3333 + "完毕")),
    ("title-200", doc(title="题" * 200)),
    ("source-128", doc(source="s" * 128, external_id="e" * 128)),
    ("z-offset", doc(received_at="2026-05-26T01:30:00Z")),
    ("lower-case-t-and-z", doc(received_at="2026-05-26t01:30:00z")),
    ("fractional-seconds", doc(received_at="2026-05-26T09:30:00.123456+08:00")),
    ("nanoseconds", doc(received_at="2026-05-26T09:30:00.123456789-05:00")),
    ("leap-day", doc(received_at="2028-02-29T09:30:00+08:00")),
    ("town", doc(region="500103001")),
    ("village", doc(region="500103001002")),
    ("anonymous-partial-petitioner", doc(petitioner={"phone": "13800000000"})),
    ("empty-petitioner", doc(petitioner={})),
    ("people_count-1", doc(people_count=1)),
    ("urgent-false", doc(urgent=False)),
    ("attachment-uri-only", doc(attachments=[{"uri": "https://example.org/a.pdf"}])),
    ("no-attachments", doc(attachments=[])),
    ("category-with-digits", doc(category="culture_tourism2")),
]


@pytest.fixture(scope="module")
def schema_validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def assert_invalid(result: Valid | Invalid, code: str, word: str) -> None:
    assert isinstance(result, Invalid), result
    assert result.code == code, result
    assert word in result.reason, result


@pytest.mark.parametrize(
    ("document", "code", "word"), [pytest.param(*case[1:], id=case[0]) for case in BAD_DOCUMENTS]
)
def test_bad_document_is_rejected_naming_the_field(document: Any, code: str, word: str) -> None:
    assert_invalid(validate(document), code, word)
    assert_invalid(parse(body(document)), code, word)


@pytest.mark.parametrize(
    ("raw", "content_type", "code", "phrase"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_BODIES],
)
def test_bad_body_is_rejected(raw: bytes, content_type: str | None, code: str, phrase: str) -> None:
    assert_invalid(parse(raw, content_type), code, phrase)


@pytest.mark.parametrize("document", [pytest.param(d, id=i) for i, d in GOOD_DOCUMENTS])
def test_good_document_is_accepted_unchanged(document: dict[str, Any]) -> None:
    for result in (validate(document), parse(body(document)), parse(body(document).decode())):
        assert isinstance(result, Valid), result
        assert result.case == document


def test_missing_content_type_is_accepted() -> None:
    assert isinstance(parse(body(MINIMAL), None), Valid)


def test_exactly_one_mib_is_accepted_and_one_byte_more_is_not() -> None:
    padding = MAX_MESSAGE_BYTES - len(body(doc(extra={"pad": ""})))
    exact = body(doc(extra={"pad": "x" * padding}))
    assert len(exact) == MAX_MESSAGE_BYTES
    assert isinstance(parse(exact), Valid)
    assert_invalid(parse(body(doc(extra={"pad": "x" * (padding + 1)}))), "too_large", "bytes")


def test_size_is_counted_in_utf8_bytes_not_characters() -> None:
    characters = MAX_MESSAGE_BYTES // 3 + 1000  # fewer characters than 1 MiB, more bytes
    oversized = body(doc(extra={"pad": "字" * characters})).decode()
    assert len(oversized) < MAX_MESSAGE_BYTES
    assert_invalid(parse(oversized), "too_large", "bytes")


def test_deep_nesting_is_invalid_not_a_crash() -> None:
    assert_invalid(parse(b"[" * 200_000 + b"]" * 200_000), "json", "not JSON")


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not() -> None:
    def nested(levels: int) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for _ in range(levels):
            value = {"x": value}
        return value

    # The document is level 1 and `extra` level 2: `extra` may hold 30 more levels.
    assert isinstance(parse(body(doc(extra=nested(MAX_DEPTH - 2)))), Valid)
    assert_invalid(parse(body(doc(extra=nested(MAX_DEPTH - 1)))), "too_deep", "deeper")


@pytest.mark.parametrize(
    ("received_at", "ok"),
    [
        ("1970-01-01T00:00:00Z", True),
        ("1969-12-31T23:59:59Z", False),
        ("2199-12-31T23:59:59Z", True),
        ("2200-01-01T00:00:00Z", False),
        ("9999-12-31T23:59:59-08:00", False),
    ],
)
def test_receipt_times_are_bounded_to_what_a_clock_can_count(received_at: str, ok: bool) -> None:
    parsed = parse(body(doc(received_at=received_at)))
    if ok:
        assert isinstance(parsed, Valid)
    else:
        assert_invalid(parsed, "received_at", "from 1970 to 2199")


PETITIONER_LEAKS = [
    pytest.param({"phone": 13800000000}, "13800000000", id="phone-integer"),
    pytest.param({"name": "泄露测试名" * 30}, "泄露测试名", id="name-too-long"),
    pytest.param({"id_number": 500103199001011234}, "500103199001011234", id="id-integer"),
    pytest.param({"id_number": "5001031990010112345" * 2}, "5001031990010112345", id="id-long"),
    pytest.param({"address": ["重庆市渝中区秘密路9号"]}, "秘密路", id="address-array"),
    pytest.param({"phone": None, "name": False}, "None", id="nulls"),
]


@pytest.mark.parametrize(("petitioner", "secret"), PETITIONER_LEAKS)
def test_reasons_never_echo_petitioner_values(petitioner: dict[str, Any], secret: str) -> None:
    result = parse(body(doc(petitioner=petitioner)))
    assert isinstance(result, Invalid)
    assert result.code == "petitioner"
    assert "petitioner" in result.reason
    assert secret not in result.reason


def test_reason_of_a_string_petitioner_does_not_echo_it() -> None:
    result = validate(doc(petitioner="张三 13800000000"))
    assert isinstance(result, Invalid)
    assert "13800000000" not in result.reason and "张三" not in result.reason


def test_code_is_bounded_even_for_unknown_fields() -> None:
    result = validate(doc(**{"x-unbounded-name-123": 1}))
    assert isinstance(result, Invalid)
    assert result.code == "unknown_field"


AGREEMENT = [pytest.param(d, id=f"bad-{i}") for i, d, _, _ in BAD_DOCUMENTS] + [
    pytest.param(d, id=f"good-{i}") for i, d in GOOD_DOCUMENTS
]


@pytest.mark.parametrize("document", AGREEMENT)
def test_schema_file_and_validator_agree(
    schema_validator: Draft202012Validator, document: Any
) -> None:
    """Any JSON Schema 2020-12 validator with format checking decides like `validate`.
    (Size, encoding, duplicate keys and NaN are checked by `parse` before the schema.)"""
    assert schema_validator.is_valid(document) == isinstance(validate(document), Valid)


def test_schema_file_is_the_packaged_schema() -> None:
    from dispatcher.contract.intake import schema_text

    assert json.loads(schema_text()) == json.loads(SCHEMA_FILE.read_text("utf-8"))


# Where Python's regex dialect or JSON Schema's number model would let a bad value through.


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(doc(region="500103\n"), id="region-trailing-newline"),
        pytest.param(doc(region="５００１０３"), id="region-fullwidth-digits"),
        pytest.param(doc(category="housing\n"), id="category-trailing-newline"),
    ],
)
def test_pattern_fields_accept_only_ascii_without_newline(document: dict[str, Any]) -> None:
    assert isinstance(validate(document), Invalid)


def test_parse_of_a_str_with_a_lone_surrogate_does_not_raise() -> None:
    assert isinstance(parse(body(MINIMAL).decode().replace("小区", "\ud800")), Invalid)


def test_escaped_lone_surrogate_is_rejected() -> None:
    raw = body(MINIMAL).replace("小区".encode(), b"\\ud800")
    assert isinstance(parse(raw), Invalid)


def test_people_count_float_with_zero_fraction_is_rejected() -> None:
    assert isinstance(validate(doc(people_count=3.0)), Invalid)


# The bundled demo sample.


@pytest.fixture(scope="module")
def sample_lines() -> list[str]:
    return SAMPLE_FILE.read_text("utf-8").splitlines()


@pytest.fixture(scope="module")
def sample(sample_lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sample_lines]


def test_every_sample_line_is_a_valid_message(sample_lines: list[str]) -> None:
    invalid = [
        (n, r)
        for n, line in enumerate(sample_lines, 1)
        if isinstance(r := parse(line.encode("utf-8")), Invalid)
    ]
    assert not invalid


def test_sample_is_large_and_covers_every_channel(sample: list[dict[str, Any]]) -> None:
    channels = [case["channel"] for case in sample]
    assert len(sample) >= 500
    assert set(channels) == {"letter", "visit", "online", "phone", "video"}
    assert 0.65 <= channels.count("online") / len(sample) <= 0.75


def test_sample_covers_chongqing(sample: list[dict[str, Any]]) -> None:
    districts = {case["region"][:6] for case in sample}
    assert len(districts) >= 30
    assert all(d.startswith("50") for d in districts)
    assert {len(case["region"]) for case in sample} == {6, 9, 12}


def test_sample_idempotency_keys_are_unique(sample: list[dict[str, Any]]) -> None:
    keys = [(case["source"], case["external_id"]) for case in sample]
    assert len(set(keys)) == len(keys)


def test_sample_uses_only_fixed_categories(sample: list[dict[str, Any]]) -> None:
    used = {case["category"] for case in sample if "category" in case}
    assert used <= set(CATEGORIES)
    assert 0.6 < sum("category" in case for case in sample) / len(sample) < 0.9


def test_sample_file_is_what_the_generator_writes(sample: list[dict[str, Any]]) -> None:
    cases = generate(600)
    assert cases + follow_ups(cases) == sample
