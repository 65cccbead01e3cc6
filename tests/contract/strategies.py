"""Hypothesis strategies for contract-v1 intake messages (DESIGN.md "Wire contract v1",
docs/malformed-messages.md): valid messages, and mutations of them as foreign producers get
them wrong.

A strategy draws a `Sample`: a valid message plus what is done to it (field edits, one edit of
the body bytes, the AMQP properties it travels with). `Sample.wire(serial)` turns it into the
`Wire` that is published: the bytes, the properties, and `expect`, the reason code the contract
gives it (`VALID` for a message it accepts; None where the contract alone cannot tell, as after a
random byte flip). `serial` makes the external_id, and so the body, of every message of a run
its own, so that its outcome can be found; it is applied before the edits, so that an edit of
`external_id` still applies to it.

The expectation follows the documented order of the checks: content type, size, UTF-8, JSON,
nesting depth, the schema (a field's own problem in alphabetical order of fields, else
`unknown_field`, else the first missing field), then what a schema cannot say (the time range,
an integer written as an integer, a number a double can hold, a lone surrogate, a NUL). Like
the malformed corpus, this module does not import xinfang: it describes the wire contract, not
the code under test.

    from contract.strategies import samples, valid_messages
"""

from __future__ import annotations

import gzip
import json
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

ONE_MIB = 1024 * 1024
MAX_DEPTH = 32
SCHEMA = "xinfang.case/v1"
CHANNELS = ("letter", "visit", "online", "phone", "video")
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
OPTIONAL = ("category", "petitioner", "people_count", "urgent", "attachments", "extra")
FIELDS = REQUIRED + OPTIONAL
ID_MAX, TITLE_MAX, CONTENT_MAX, PEOPLE_MAX, ATTACHMENTS_MAX = 128, 200, 20_000, 100_000, 100
REASON_HEADERS = ("x-xinfang-reason-code", "x-xinfang-reason", "x-xinfang-routing-key")

VALID = "valid"  # the expectation of a message the contract accepts

# The layers of the checks, in the order they run: the first that fails gives the code.
CONTENT_TYPE, SIZE, UTF8, JSON, DEPTH, SCHEMA_LAYER, BEYOND, OK = range(8)
Expect = tuple[int, str] | None  # (layer, code), or None: the contract alone cannot tell


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()  # an edit's value that removes the field


# ---- text ----------------------------------------------------------------------------------

COMMON = (
    "小区加装电梯纠纷物业拖欠工资学校医院道路噪音污染"
    "垃圾收费违建养老补偿征地拆迁诈骗停车供暖用水投诉"
)
PUNCTUATION = "，。、！？：；“”‘’（）《》【】…—·"
SPACES = " \u3000\t\n\r\u00a0\u2003\u2028"
SPECIALS = '😀𠀀𪚥🀄\u200b\u202e\ufeff\uffff\u0301\x01\x1f\x7f\\"/\u2029'  # astral, bidi, ...
# Anything a JSON string can hold and PostgreSQL text can store: no NUL, no lone surrogate.
ANY_CHARACTER = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
# One draw per character: common and rarer CJK ideographs, punctuation, ASCII, white space
# and oddities. Texts of ANY_CHARACTER are drawn too (texts()), for everything else.
POOL = "".join(
    dict.fromkeys(
        COMMON
        + PUNCTUATION
        + string.ascii_letters
        + string.digits
        + SPACES
        + SPECIALS
        + "".join(chr(code) for code in range(0x4E00, 0xA000, 37))
    )
)
CHARACTERS = st.sampled_from(POOL)


def _non_blank(text: str) -> str:
    """The text with at least one character that is not white space (the contract's \\S)."""
    if not text or any(not ch.isspace() for ch in text):
        return text
    return "访" + text[1:]


@cache
def texts(min_size: int = 1, max_size: int = 40, blank: bool = False) -> st.SearchStrategy[str]:
    """Chinese-heavy text with every kind of character; not only white space unless `blank`."""
    drawn = st.one_of(
        st.text(CHARACTERS, min_size=min_size, max_size=max_size),
        st.text(CHARACTERS, min_size=min_size, max_size=max_size),
        st.text(ANY_CHARACTER, min_size=min_size, max_size=max_size),
    )
    return drawn if blank else drawn.map(_non_blank)


@cache
def sized(length: int) -> st.SearchStrategy[str]:
    """Text of exactly `length` characters (code points), not blank: a short drawn chunk
    repeated, so that 20,000 characters cost no more to draw than twenty."""
    return texts(1, 12, blank=True).map(
        lambda chunk: _non_blank((chunk * (length // len(chunk) + 1))[:length])
    )


@cache
def up_to(limit: int, short: int = 40) -> st.SearchStrategy[str]:
    """Mostly short text, sometimes any length up to `limit`, sometimes exactly `limit`."""
    return st.one_of(
        texts(1, short), texts(1, short), st.integers(1, limit).flatmap(sized), sized(limit)
    )


# ---- the fields of a valid message ---------------------------------------------------------

REGIONS = (
    "500103",
    "500112",
    "500101",
    "500235",
    "110101",
    "500112001",
    "500112001001",
    "500103002003",
)
CATEGORIES = (
    "housing",
    "labour",
    "education",
    "health",
    "transport",
    "environment",
    "market",
    "public_security",
    "social_security",
    "land_use",
)


@cache
@st.composite
def received_ats(draw: st.DrawFn) -> str:
    """RFC 3339 with an offset, as the contract takes it: an instant from 1970 to 2199, local
    time in those years too, offsets from -23:59 to +23:59 (the real ones more often), a
    fraction of 0 to 9 digits, upper- or lower-case T and Z."""
    instant = draw(
        st.datetimes(
            min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31, 23, 59, 59, 999_999)
        )
    )
    minutes = draw(
        st.one_of(
            st.sampled_from((480, 0, -300, 330, 345, 60, -600, 840, -720)),
            st.integers(-(23 * 60 + 59), 23 * 60 + 59),
        )
    )
    local = instant.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=minutes)))
    assume(1970 <= local.year <= 2199)
    fraction = draw(st.sampled_from(("", "", "ms", "us", "ns")))
    digits = {
        "": "",
        "ms": f".{local.microsecond // 1000:03d}",
        "us": f".{local.microsecond:06d}",
        "ns": f".{local.microsecond:06d}123",
    }[fraction]
    if minutes == 0:
        offset = draw(st.sampled_from(("Z", "z", "+00:00", "-00:00")))
    else:
        sign, value = ("+" if minutes > 0 else "-"), abs(minutes)
        offset = f"{sign}{value // 60:02d}:{value % 60:02d}"
    separator = draw(st.sampled_from("TTTt"))
    return local.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + digits + offset


@cache
def digits(*lengths: int) -> st.SearchStrategy[str]:
    """A string of ASCII digits of one of these lengths, cheaply (one draw)."""
    return st.sampled_from(lengths).flatmap(
        lambda n: st.integers(0, 10**n - 1).map(lambda value: f"{value:0{n}d}")
    )


@cache
def regions() -> st.SearchStrategy[str]:
    """Division codes of 6 (county), 9 (town) or 12 (village) digits."""
    return st.one_of(st.sampled_from(REGIONS), digits(6, 9, 12))


@cache
def categories() -> st.SearchStrategy[str]:
    key = st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(string.ascii_lowercase),
        st.text(string.ascii_lowercase + string.digits + "_", max_size=63),
    )
    return st.one_of(st.sampled_from(CATEGORIES), key)


def id_number_with_check(first17: str) -> str:
    """A GB 11643 resident ID number: 17 digits and their ISO 7064 MOD 11-2 check character."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first17))
    return first17 + "10X98765432"[total % 11]


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isascii() and ch.isalnum() else ch for ch in text)


@cache
def id_numbers() -> st.SearchStrategy[str]:
    resident = st.integers(10**16, 7 * 10**16 - 1).map(lambda n: id_number_with_check(str(n)))
    return st.one_of(
        resident,
        resident.map(lambda n: f" {n.lower()} "),
        resident.map(_full_width),
        digits(15),  # the old 15 digits
        st.sampled_from(("", "无", "unknown", "000000000000000")),
        texts(0, 32, blank=True),
    )


@cache
def phones() -> st.SearchStrategy[str]:
    mobile = st.integers(13 * 10**9, 2 * 10**10 - 1).map(str)
    return st.one_of(
        mobile,
        mobile.map(lambda m: f"+86 {m[:3]}-{m[3:7]}-{m[7:]}"),
        mobile.map(lambda m: "0086" + m),
        mobile.map(_full_width),
        st.builds("0{}-{}".format, digits(2, 3), digits(7, 8)),
        st.sampled_from(("", "12345", "0000000", "13800000000")),
        texts(0, 32, blank=True),
    )


@cache
@st.composite
def petitioners(draw: st.DrawFn, same_number: bool = True) -> dict[str, str]:
    """A petitioner, often partial. With `same_number`, sometimes the same number in both
    `id_number` and `phone` (a clerk's slip), which must not break anything."""
    petitioner = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.one_of(
                    st.sampled_from(("龚慧芳", "欧阳娜娜", "阿卜杜热依木·买买提")),
                    texts(0, 100, blank=True),
                ),
                "id_number": id_numbers(),
                "phone": phones(),
                "address": st.one_of(texts(0, 60, blank=True), sized(500)),
            },
        )
    )
    if same_number and "id_number" in petitioner and draw(st.integers(0, 2)) == 0:
        petitioner["phone"] = petitioner["id_number"][:32]
    return petitioner


@cache
def attachments() -> st.SearchStrategy[list[dict[str, str]]]:
    uri = st.one_of(
        st.sampled_from(
            ("https://files.example.cn/a/1.jpg", "oss://bucket/信访/2.pdf", "file:///C:/扫描件.tif")
        ),
        texts(1, 80),
        sized(2048),
    )
    one = st.fixed_dictionaries(
        {"uri": uri},
        optional={
            "sha256": st.integers(0, 2**256 - 1).map(lambda n: f"{n:064x}"),
            "media_type": st.one_of(
                st.sampled_from(("image/jpeg", "application/pdf", "audio/amr")),
                texts(0, 255, blank=True),
            ),
        },
    )
    short = st.fixed_dictionaries({"uri": texts(1, 30)})
    return st.one_of(
        st.lists(one, max_size=3),
        st.lists(one, max_size=3),
        short.map(lambda a: [a] * ATTACHMENTS_MAX),
    )


@cache
def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """Any JSON value a producer could put in `extra` (finite numbers, no NUL, no lone
    surrogate)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        texts(0, 30, blank=True),
    )
    keys = texts(0, 20, blank=True)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


@cache
def extras() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(texts(0, 12, blank=True), json_values(), max_size=4)


@cache
def valid_messages(same_number: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    """Valid contract-v1 messages: every field, optional ones sometimes absent, sizes up to
    and at every limit. `external_id` is a prefix: `Sample.wire` makes it unique."""
    return st.fixed_dictionaries(
        {
            "schema": st.just(SCHEMA),
            "source": st.one_of(
                st.sampled_from(("cq-12345", "cq-visit-desk", "cq-web", "12345热线")),
                up_to(ID_MAX, short=20),
            ),
            "external_id": st.one_of(
                st.builds(str.__add__, st.sampled_from(("HL", "XF", "WX")), digits(8, 14)),
                texts(0, 30),
                sized(ID_MAX),
            ),
            "channel": st.sampled_from(CHANNELS),
            "received_at": received_ats(),
            "region": regions(),
            "title": up_to(TITLE_MAX),
            "content": up_to(CONTENT_MAX, short=200),
        },
        optional={
            "category": categories(),
            "petitioner": petitioners(same_number),
            "people_count": st.one_of(st.just(1), st.integers(1, PEOPLE_MAX), st.just(PEOPLE_MAX)),
            "urgent": st.booleans(),
            "attachments": attachments(),
            "extra": extras(),
        },
    )


# ---- edits of the message ------------------------------------------------------------------

# What the contract calls a problem of an edit: its class decides its place in the order.
FIELD, UNKNOWN, MISSING, NONE = "field", "unknown", "missing", "none"
BEYOND_TIME, BEYOND_INTEGER, BEYOND_NUMBER, BEYOND_SURROGATE, BEYOND_NUL = (
    "time",
    "integer",
    "number",
    "surrogate",
    "nul",
)
_BEYOND_ORDER = (BEYOND_TIME, BEYOND_INTEGER, BEYOND_NUMBER, BEYOND_SURROGATE, BEYOND_NUL)
_BEYOND_CODES = {
    BEYOND_TIME: "received_at",
    BEYOND_INTEGER: "people_count",
    BEYOND_NUMBER: "extra",
    BEYOND_SURROGATE: "encoding",
    BEYOND_NUL: "encoding",
}


@dataclass(frozen=True)
class Edit:
    """One change of one top-level field (`key`) of the message.

    `value` replaces the field (DROP removes it); `length` instead pads or cuts its string to
    that many characters; `char` instead replaces its first character (for `petitioner` and
    `extra`, a value inside them); `raw` instead puts these bytes, as written, into `extra`.
    `kind` is the contract's class of the problem (FIELD, UNKNOWN, ...; NONE: still valid) and
    `code` the code it gives alone; `sort` the field name that orders schema problems.
    """

    key: str
    kind: str
    code: str | None = None
    value: Any = None
    length: int | None = None
    char: str | None = None
    raw: bytes | None = None
    depth: int = 0  # how deeply `raw` nests arrays or objects
    json_ok: bool = True  # False: `raw` is not JSON (the whole body then is not)
    sort: str = ""

    def apply(self, message: dict[str, Any]) -> dict[str, Any]:
        out = dict(message)
        if self.raw is not None:
            extra = out.get("extra")
            out["extra"] = {**(extra if isinstance(extra, dict) else {}), "raw": PLACEHOLDER}
        elif self.length is not None:
            current = out.get(self.key) or "号"
            out[self.key] = (
                (current * (self.length // len(current) + 1))[: self.length]
                if len(current) < self.length
                else current[: self.length]
            )
        elif self.char is not None:
            out[self.key] = _with_char(out.get(self.key), self.key, self.char)
        elif self.value is DROP:
            out.pop(self.key, None)
        else:
            out[self.key] = self.value
        return out


PLACEHOLDER = "@@xinfang-fuzz-raw@@"


def _with_char(value: Any, key: str, char: str) -> Any:
    if key == "petitioner":
        petitioner = dict(value) if isinstance(value, dict) else {}
        return {**petitioner, "name": char + str(petitioner.get("name", ""))[1:100]}
    if key == "extra":
        return {**(value if isinstance(value, dict) else {}), f"k{char}": char}
    text = value if isinstance(value, str) and value else "号"
    return char + text[1:]


_NOT_STRINGS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.sampled_from("ab"), st.integers(0, 9), max_size=2),
)
_NOT_OBJECTS = st.one_of(
    st.none(), st.booleans(), st.integers(), texts(0, 10), st.lists(st.integers(0, 9), max_size=2)
)


def _field(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Edit]:
    return values.map(lambda v: Edit(key, FIELD, key, value=v, sort=key))


def _bad_times() -> st.SearchStrategy[Edit]:
    """Times the schema refuses, and times it lets through that the contract refuses."""
    refused = st.sampled_from(
        (
            "2026-05-26",
            "2026-05-26T09:30:00",
            "2026-05-26T09:30:00+0800",
            "2026-05-26T25:00:00Z",
            "2026-02-30T09:30:00+08:00",
            "2026-05-26T09:30:00+08:00\n",
            "yesterday morning",
            "2026-05-26 09:30:00+08:00",
            "2026-05-26T09:30:00.+08:00",
            "２０２６-05-26T09:30:00Z",
            "",
            "2026-13-01T00:00:00Z",
            "2026-05-26T09:30Z",
            "2016-12-31T23:59:60Z",  # a leap second: the format checker refuses it
        )
    )
    beyond = st.sampled_from(
        (
            "2200-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1969-12-31T23:59:59.999999Z",
            "1970-01-01T07:59:59+08:00",
            "2199-12-31T23:59:59-00:01",
            "9999-12-31T23:59:59-08:00",
            "0001-01-01T00:00:00Z",
            "2500-06-01T12:00:00+08:00",
        )
    )
    return st.one_of(
        refused.map(
            lambda t: Edit("received_at", FIELD, "received_at", value=t, sort="received_at")
        ),
        beyond.map(lambda t: Edit("received_at", BEYOND_TIME, "received_at", value=t)),
        _NOT_STRINGS.map(
            lambda v: Edit("received_at", FIELD, "received_at", value=v, sort="received_at")
        ),
    )


def _people_count(value: Any) -> Edit:
    if isinstance(value, float) and value.is_integer() and 1 <= value <= PEOPLE_MAX:
        return Edit("people_count", BEYOND_INTEGER, "people_count", value=value)
    return Edit("people_count", FIELD, "people_count", value=value, sort="people_count")


def _attachments_edit(value: Any) -> Edit:
    missing_uri = isinstance(value, list) and value == [{}]
    return Edit(
        "attachments",
        FIELD,
        "missing_uri" if missing_uri else "attachments",
        value=value,
        sort="attachments",
    )


def _raw(raw: bytes, code: str | None, kind: str, depth: int = 0, json_ok: bool = True) -> Edit:
    return Edit("extra", kind, code, raw=raw, depth=depth, json_ok=json_ok, sort="extra")


def _nesting(levels: int, opening: bytes, closing: bytes, inner: bytes) -> Edit:
    return _raw(opening * levels + inner + closing * levels, None, NONE, depth=levels)


RAW_EXTRAS = st.one_of(
    st.sampled_from(
        (
            _raw(b"1" * 4300, None, NONE),  # the longest integer Python decodes
            _raw(b"1" * 4301, "json", NONE, json_ok=False),
            _raw(b"NaN", "json", NONE, json_ok=False),
            _raw(b"-Infinity", "json", NONE, json_ok=False),
            _raw(b'"\\ud83d\\ude00"', None, NONE),  # an escaped surrogate pair: fine
            _raw(b'"\\ud800"', "encoding", BEYOND_SURROGATE),
            _raw(b'"\\udfff\\ud800"', "encoding", BEYOND_SURROGATE),
            _raw(b'"\\u0000"', "encoding", BEYOND_NUL),
            _raw(b'"\x01"', "json", NONE, json_ok=False),  # an unescaped control character
            _raw(b"1E0", None, NONE),
            _raw(b"-0", None, NONE),
            _raw(b"1e-400", None, NONE),
            _raw(b"1.7976931348623157e308", None, NONE),
            # Overflows a double: decoded, it is infinity, which no JSON column can store.
            _raw(b"1e400", "extra", BEYOND_NUMBER),
            _raw(b"-1E309", "extra", BEYOND_NUMBER),
        )
    ),
    st.one_of(st.integers(0, MAX_DEPTH + 8), st.sampled_from((100, 600, 10_000))).flatmap(
        lambda n: st.sampled_from(
            (_nesting(n, b"[", b"]", b"1"), _nesting(n, b'{"a":', b"}", b"null"))
        )
    ),
)


@cache
def _edits_of(key: str) -> st.SearchStrategy[Edit]:
    drop = Edit(
        key,
        MISSING if key in REQUIRED else NONE,
        f"missing_{key}" if key in REQUIRED else None,
        value=DROP,
    )
    if key == "schema":
        bad = st.one_of(
            _NOT_STRINGS,
            st.sampled_from(
                ("xinfang.case/v2", "XINFANG.CASE/V1", "", "xinfang.case/v1 ", "xinfang.command/v1")
            ),
        )
        return st.one_of(st.just(drop), _field(key, bad))
    if key in ("source", "external_id"):
        too_long = Edit(key, FIELD, key, length=ID_MAX + 1, sort=key)
        at_limit = Edit(key, NONE, length=ID_MAX)
        blank = st.sampled_from(("", " ", "\t", "\u3000\u2003", "\n"))
        chars = st.sampled_from(
            (
                Edit(key, BEYOND_NUL, "encoding", char="\x00"),
                Edit(key, BEYOND_SURROGATE, "encoding", char="\ud800"),
            )
        )
        return st.one_of(
            st.just(drop),
            st.just(too_long),
            st.just(at_limit),
            chars,
            _field(key, st.one_of(_NOT_STRINGS, blank)),
        )
    if key == "channel":
        bad = st.sampled_from(("Phone", "PHONE", "fax", "sms", "", "phone ", "电话", "wechat"))
        return st.one_of(st.just(drop), _field(key, st.one_of(_NOT_STRINGS, bad)))
    if key == "received_at":
        return st.one_of(st.just(drop), _bad_times())
    if key == "region":
        bad = st.one_of(
            digits(1, 5, 7, 8, 10, 11, 13, 20),
            st.sampled_from(
                ("50011a", "５００１１２", "٥٠٠١١٢", "500112\n", " 500112", "", "500-112")
            ),
        )
        return st.one_of(st.just(drop), _field(key, st.one_of(_NOT_STRINGS, bad)))
    if key in ("title", "content"):
        limit = TITLE_MAX if key == "title" else CONTENT_MAX
        blank = st.sampled_from(("", " ", "\u3000\n", "\t\r\n", "\u2028\u00a0"))
        chars = st.sampled_from(
            (
                Edit(key, BEYOND_NUL, "encoding", char="\x00"),
                Edit(key, BEYOND_SURROGATE, "encoding", char="\udbff"),
            )
        )
        return st.one_of(
            st.just(drop),
            st.just(Edit(key, FIELD, key, length=limit + 1, sort=key)),
            st.just(Edit(key, NONE, length=limit)),
            chars,
            _field(key, st.one_of(_NOT_STRINGS, blank)),
        )
    if key == "category":
        bad = st.sampled_from(("Housing", "", "1housing", "a-b", "a" * 65, "住房", "housing "))
        return st.one_of(st.just(drop), _field(key, st.one_of(_NOT_STRINGS, bad)))
    if key == "petitioner":
        bad = st.sampled_from(
            (
                {"name": 1},
                {"phone": 13907731846},
                {"nickname": "阿芳"},
                {"name": "名" * 101},
                {"id_number": "1" * 33},
                {"address": "址" * 501},
                {"phone": None},
            )
        )
        chars = st.sampled_from(
            (
                Edit(key, BEYOND_NUL, "encoding", char="\x00"),
                Edit(key, BEYOND_SURROGATE, "encoding", char="\udc80"),
            )
        )
        return st.one_of(st.just(drop), chars, _field(key, st.one_of(_NOT_OBJECTS, bad)))
    if key == "people_count":
        bad = st.one_of(
            st.sampled_from(
                (
                    0,
                    -3,
                    PEOPLE_MAX + 1,
                    2**63,
                    1.5,
                    3.0,
                    1.0,
                    float(PEOPLE_MAX),
                    1e20,
                    True,
                    False,
                    "3",
                    None,
                )
            ),
            st.floats(allow_nan=False, allow_infinity=False),
            st.integers(max_value=0),
            st.integers(min_value=PEOPLE_MAX + 1),
        )
        return st.one_of(st.just(drop), bad.map(_people_count))
    if key == "urgent":
        bad = st.sampled_from(("true", "false", 1, 0, None, [], {}))
        return st.one_of(st.just(drop), _field(key, bad))
    if key == "attachments":
        bad = st.sampled_from(
            (
                {},
                "x",
                [1],
                [{}],
                [{"uri": ""}],
                [{"uri": "a", "sha256": "A" * 64}],
                [{"uri": "a", "size": 1}],
                [{"uri": "a"}] * 101,
                [{"uri": "u" * 2049}],
                [{"uri": "a", "media_type": "m" * 256}],
                [{"uri": 1}],
                [None],
            )
        )
        return st.one_of(st.just(drop), bad.map(_attachments_edit))
    if key == "extra":
        chars = st.sampled_from(
            (
                Edit(key, BEYOND_NUL, "encoding", char="\x00"),
                Edit(key, BEYOND_SURROGATE, "encoding", char="\ud83d"),
            )
        )
        return st.one_of(
            st.just(drop), chars, RAW_EXTRAS, _field(key, st.one_of(_NOT_OBJECTS, st.just("{}")))
        )
    raise AssertionError(key)


UNKNOWN_NAMES = st.one_of(
    st.sampled_from(
        (
            "Title",
            "surprise",
            "external-id",
            "",
            "schema ",
            "中文字段",
            "__proto__",
            "EXTRA",
            "received_at\u200b",
        )
    ),
    texts(0, 20, blank=True).filter(lambda name: name not in FIELDS),
)


@cache
def unknown_field_edits() -> st.SearchStrategy[Edit]:
    return st.builds(
        lambda name, value: Edit(name, UNKNOWN, "unknown_field", value=value),
        UNKNOWN_NAMES,
        st.one_of(st.none(), st.booleans(), texts(0, 10)),
    )


@cache
@st.composite
def edit_lists(draw: st.DrawFn, max_size: int = 3) -> tuple[Edit, ...]:
    """One to `max_size` edits, of distinct fields."""
    keys = draw(
        st.lists(
            st.sampled_from((*FIELDS, "<unknown>")), min_size=1, max_size=max_size, unique=True
        )
    )
    edits = []
    for key in keys:
        edit = draw(unknown_field_edits() if key == "<unknown>" else _edits_of(key))
        if edit.key in {e.key for e in edits}:
            continue
        edits.append(edit)
    return tuple(edits)


def schema_expectation(edits: tuple[Edit, ...]) -> Expect:
    """The code the contract gives these edits of a valid message (at the schema layer or
    after it), by the documented order: a field's own problem (fields in alphabetical order),
    else unknown_field, else the first missing field; then the checks beyond the schema."""
    if any(edit.kind is None for edit in edits):
        return None
    fields = sorted((e for e in edits if e.kind == FIELD), key=lambda e: e.sort)
    if fields:
        return SCHEMA_LAYER, str(fields[0].code)
    if any(edit.kind == UNKNOWN for edit in edits):
        return SCHEMA_LAYER, "unknown_field"
    missing = sorted(e.key for e in edits if e.kind == MISSING)
    if missing:
        return SCHEMA_LAYER, f"missing_{missing[0]}"
    for kind in _BEYOND_ORDER:
        if any(edit.kind == kind for edit in edits):
            return BEYOND, _BEYOND_CODES[kind]
    return OK, VALID


# ---- edits of the body ---------------------------------------------------------------------


@dataclass(frozen=True)
class BodyEdit:
    """One change of the encoded bytes: `how` names it, `arg` parametrises it."""

    how: str
    arg: Any = None

    def apply(self, body: bytes) -> bytes:
        if self.how == "truncate":
            return body[: self.arg % len(body)] if body else body
        if self.how == "flip":
            out = bytearray(body)
            for position, mask in self.arg:
                if out:
                    out[position % len(out)] ^= mask
            return bytes(out)
        if self.how == "reencode":
            return body.decode("utf-8", "surrogatepass").encode(self.arg, "replace")
        if self.how == "whole":
            return self.arg
        if self.how == "wrap-array":
            return b"[" + body + b"]"
        if self.how == "wrap-string":
            return json.dumps(body.decode("utf-8", "surrogatepass")).encode()
        if self.how == "prefix":
            return self.arg + body
        if self.how in ("suffix", "suffix-whitespace"):
            return body + self.arg
        if self.how == "gzip":
            return gzip.compress(body, mtime=0)
        if self.how == "duplicate-key":
            key, escaped = self.arg
            spelled = f"\\u{ord(key[0]):04x}{key[1:]}" if escaped else key
            return body[:-1] + b', "' + spelled.encode() + b'": null}'
        raise AssertionError(self.how)

    def expect(self, before: bytes, after: bytes, inner: Expect, depth: int) -> Expect:
        """What the contract says of the edited bytes, knowing what it said of `before`."""
        utf8_broken = inner is not None and inner[0] == UTF8
        if self.how == "truncate":
            return (UTF8, "encoding") if not _is_utf8(after) else (JSON, "json")
        if self.how == "flip" or (self.how == "reencode" and after != before):
            return None
        if self.how in ("reencode", "suffix-whitespace"):
            return inner
        if self.how == "whole":
            return (SCHEMA_LAYER, "message") if _is_json(after) else (JSON, "json")
        if self.how == "wrap-string":
            return SCHEMA_LAYER, "message"
        if self.how == "wrap-array":
            if inner is None or inner[0] in (UTF8, JSON):
                return inner
            return (DEPTH, "too_deep") if depth + 1 > MAX_DEPTH else (SCHEMA_LAYER, "message")
        if self.how == "gzip":
            return UTF8, "encoding"
        if self.how in ("prefix", "suffix", "duplicate-key"):
            if inner is None:
                return None
            return (UTF8, "encoding") if utf8_broken else (JSON, "json")
        raise AssertionError(self.how)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data.decode("utf-8"))
    except ValueError:
        return False
    return True


REENCODINGS = (
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "gbk",
    "gb18030",
    "big5",
    "shift_jis",
    "latin-1",
    "cp1252",
    "utf-7",
    "ascii",
)
WHITESPACE_BODIES = st.one_of(
    st.sampled_from((b"", b" ", b"\n", b"\t \r\n", "\u3000".encode(), b"\x0b\x0c")),
    st.text(" \t\r\n\u3000\u00a0\u2028", min_size=1, max_size=10).map(str.encode),
)
SCALAR_BODIES = st.sampled_from(
    (
        b"null",
        b"true",
        b"42",
        b'"xinfang.case/v1"',
        b"[]",
        b"[{}]",
        b"not json",
        b"{'schema': 'xinfang.case/v1'}",
    )
)


@cache
def body_edits() -> st.SearchStrategy[BodyEdit]:
    return st.one_of(
        st.integers(0, 10**6).map(lambda n: BodyEdit("truncate", n)),
        st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=3).map(
            lambda flips: BodyEdit("flip", tuple(flips))
        ),
        st.sampled_from(REENCODINGS).map(lambda codec: BodyEdit("reencode", codec)),
        WHITESPACE_BODIES.map(lambda b: BodyEdit("whole", b)),
        SCALAR_BODIES.map(lambda b: BodyEdit("whole", b)),
        st.sampled_from(
            (
                BodyEdit("wrap-array"),
                BodyEdit("wrap-string"),
                BodyEdit("gzip"),
                BodyEdit("prefix", b"\xef\xbb\xbf"),
                BodyEdit("prefix", b"// x\n"),
                BodyEdit("suffix", b"x"),
                BodyEdit("suffix", b","),
                BodyEdit("suffix", b"\n{}"),
                BodyEdit("suffix", b"\x00"),
                BodyEdit("suffix-whitespace", b"\n"),
                BodyEdit("suffix-whitespace", b" \r\n\t"),
            )
        ),
        st.tuples(st.sampled_from(("title", "external_id", "schema")), st.booleans()).map(
            lambda arg: BodyEdit("duplicate-key", arg)
        ),
    )


# ---- the envelope --------------------------------------------------------------------------

CONTENT_TYPES = (
    "application/json",
    None,
    "",
    "text/plain",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    " application/json ",
    "application/json;charset=utf-16",
    "application/octet-stream",
    "application/problem+json",
    "text/json",
    "application/json; 编码=中文",
)
# Every one of these leaves the bytes as they were sent (docs/malformed-messages.md: xinfang
# never decompresses or transcodes a body, whatever its content_encoding says).
CONTENT_ENCODINGS = (
    None,
    "utf-8",
    "latin-1",
    "gzip",
    "UTF-8",
    "binary",
    "identity",
    "deflate",
    "x-unknown",
)
# Content encodings that once broke intake on RabbitMQ, when py-amqp decoded bodies by them
# and xinfang encoded them back: for these text codecs that gave other bytes (a BOM added,
# escapes undone, another spelling) ...
LOSSY_ENCODINGS = ("utf-8-sig", "utf-16", "unicode_escape", "utf-7")
# ... and these codecs of bytes (or of text to text) made an empty body's delivery fail before
# it was judged, forever. Consumers now take the bytes as sent (auto_decode off).
BYTES_CODECS = ("zlib", "base64", "rot13")
MISHANDLED_ENCODINGS = LOSSY_ENCODINGS + BYTES_CODECS


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


@cache
def header_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.text(ANY_CHARACTER, max_size=20),
        st.integers(-(2**63), 2**63 - 1),
        st.booleans(),
        st.binary(max_size=16),
        st.none(),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.text(string.ascii_letters, min_size=1, max_size=8), inner, max_size=3
            ),
        ),
        max_leaves=5,
    )


@cache
def headers() -> st.SearchStrategy[dict[str, Any] | None]:
    names = st.one_of(
        st.sampled_from(("x-trace-id", "x-来源", "x-death", "priority", "", *REASON_HEADERS)),
        st.text(string.ascii_letters + "-_.", min_size=1, max_size=30),
    )
    return st.one_of(
        st.none(), st.none(), st.none(), st.dictionaries(names, header_values(), max_size=4)
    )


@dataclass(frozen=True)
class Envelope:
    content_type: str | None = "application/json"
    content_encoding: str | None = None
    headers: dict[str, Any] | None = field(default=None, hash=False)
    message_id: str | None = None
    odd_routing_key: str | None = None  # None: case.<channel>


@cache
def envelopes(mishandled: bool = True) -> st.SearchStrategy[Envelope]:
    """Mostly what a well-behaved producer sends; sometimes anything."""
    encodings = CONTENT_ENCODINGS + (MISHANDLED_ENCODINGS if mishandled else ())
    odd = st.builds(
        Envelope,
        content_type=st.sampled_from(CONTENT_TYPES),
        content_encoding=st.sampled_from(encodings),
        headers=headers(),
        message_id=st.one_of(st.none(), st.text(string.printable, max_size=40)),
        odd_routing_key=st.one_of(
            st.none(),
            st.sampled_from(("case.phone", "case.x.y", "case.电话", "case.PHONE", "case.fax")),
        ),
    )
    return st.one_of(st.just(Envelope()), st.just(Envelope()), odd)


# ---- samples -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wire:
    """A message as it is published, and what the contract says of it."""

    body: bytes
    content_type: str | None
    content_encoding: str | None
    headers: dict[str, Any] | None
    message_id: str | None
    routing_key: str
    expect: str | None  # a reason code, VALID, or None when the contract alone cannot tell
    sample: Sample = field(repr=False, compare=False)

    def describe(self) -> str:
        return (
            f"body {self.body[:300]!r}{'…' if len(self.body) > 300 else ''} "
            f"({len(self.body)} bytes), content_type={self.content_type!r}, "
            f"content_encoding={self.content_encoding!r}, headers={self.headers!r}, "
            f"routing_key={self.routing_key!r}; {self.sample.summary()}"
        )


@dataclass(frozen=True)
class Sample:
    """A valid message and what is done to it on the way to the wire."""

    message: dict[str, Any] = field(hash=False)
    edits: tuple[Edit, ...] = ()
    body_edit: BodyEdit | None = None
    ascii: bool = False  # json.dumps(ensure_ascii=...): \\u escapes instead of UTF-8
    pad_to: int | None = None  # pad `extra` so that the body is exactly this many bytes
    envelope: Envelope = Envelope()

    def summary(self) -> str:
        parts = [f"edits={list(self.edits)!r}"] if self.edits else []
        if self.body_edit is not None:
            parts.append(f"body_edit={self.body_edit!r}")
        if self.pad_to is not None:
            parts.append(f"pad_to={self.pad_to}")
        parts.append(f"ascii={self.ascii}")
        return ", ".join(parts)

    def wire(self, serial: int) -> Wire:
        message = stamped(self.message, serial)
        for edit in self.edits:
            message = edit.apply(message)
        body, depth = self._encode(message)
        expect = self._expect(body, depth)
        if self.body_edit is not None:
            if self.body_edit.how == "duplicate-key" and self.body_edit.arg[0] not in message:
                expect = None  # not a duplicate after all: the key was edited away
            edited = self.body_edit.apply(body)
            expect = self.body_edit.expect(body, edited, expect, depth)
            body = edited
        expect = self._envelope_expect(body, expect)
        channel = message.get("channel")
        routing_key = self.envelope.odd_routing_key or (
            f"case.{channel}" if channel in CHANNELS else "case.phone"
        )
        encoding = (
            "gzip"
            if self.body_edit is not None and self.body_edit.how == "gzip"
            else self.envelope.content_encoding
        )
        return Wire(
            body,
            self.envelope.content_type,
            encoding,
            self.envelope.headers,
            self.envelope.message_id,
            routing_key,
            None if expect is None else expect[1],
            self,
        )

    def _encode(self, message: dict[str, Any]) -> tuple[bytes, int]:
        if self.pad_to is not None:
            message = {**message, "extra": {"pad": ""}}
            size = len(_dumps(message, self.ascii))
            message["extra"] = {"pad": "x" * max(0, self.pad_to - size)}
        body = _dumps(message, self.ascii)
        raw = next((edit for edit in self.edits if edit.raw is not None), None)
        depth = document_depth(message)
        if raw is not None:
            placeholder = _dumps(PLACEHOLDER, self.ascii)
            assert body.count(placeholder) == 1, "the placeholder must be there once"
            body = body.replace(placeholder, raw.raw)
            depth = max(depth, 2 + raw.depth)
        return body, depth

    def _expect(self, body: bytes, depth: int) -> Expect:
        """What the contract says of the encoded message, before any body edit."""
        inner = schema_expectation(self.edits)
        if not self.ascii and any(e.kind == BEYOND_SURROGATE and e.raw is None for e in self.edits):
            return UTF8, "encoding"  # written as UTF-8, a lone surrogate is no UTF-8
        if any(not edit.json_ok for edit in self.edits):
            return JSON, "json"
        if depth > MAX_DEPTH:
            # Python's decoder gives up somewhere between 900 and 5,000 levels
            return (DEPTH, "too_deep") if depth < 900 else (JSON, "json") if depth > 5000 else None
        return inner

    def _envelope_expect(self, body: bytes, expect: Expect) -> Expect:
        content_type = self.envelope.content_type
        if content_type is not None and media_type(content_type) != "application/json":
            return CONTENT_TYPE, "content_type"
        if len(body) > ONE_MIB:
            return SIZE, "too_large"
        return expect


def _dumps(value: Any, ascii: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii).encode("utf-8", "surrogatepass")


def stamped(message: dict[str, Any], serial: int) -> dict[str, Any]:
    """The message with an external_id of its own: the drawn prefix, cut so that the whole
    stays within 128 characters, then ~serial."""
    tag = f"~{serial}"
    prefix = str(message.get("external_id", ""))[: ID_MAX - len(tag)]
    return {**message, "external_id": prefix + tag}


def document_depth(document: Any) -> int:
    """How deeply arrays and objects nest (a scalar: 0, {}: 1), without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, level + 1) for child in children)
    return deepest


@cache
@st.composite
def samples(
    draw: st.DrawFn, mishandled: bool = True, same_number: bool = True, big: bool = True
) -> Sample:
    """One message for the wire: about a third valid (many at a limit), the rest mutated.
    Bodies over 1 MiB are rare (and never drawn with `big=False`). `mishandled` adds the content
    encodings and `same_number` the petitioners of bugs fixed since (see test_fuzz_intake.py)."""
    message = draw(valid_messages(same_number))
    envelope = draw(envelopes(mishandled))
    ascii = draw(st.booleans())
    roll = draw(st.integers(0, 99))
    if roll < 30:  # valid as drawn
        return Sample(message, ascii=ascii, envelope=envelope)
    if big and roll < 31:  # exactly 1 MiB, or one byte more
        size = draw(st.sampled_from((ONE_MIB, ONE_MIB + 1)))
        return Sample(message, ascii=ascii, pad_to=size, envelope=envelope)
    edits = draw(edit_lists()) if roll < 85 else ()
    body_edit = draw(body_edits()) if roll >= 70 else None
    return Sample(message, edits, body_edit, ascii, envelope=envelope)


def batches(
    min_size: int = 1, max_size: int = 20, **options: Any
) -> st.SearchStrategy[list[Sample]]:
    """A list of samples published together."""
    return st.lists(samples(**options), min_size=min_size, max_size=max_size)


def code_of(verdict: Any) -> str:
    """`VALID` or the code of a parse result (duck-typed, so that this module needs no
    xinfang import)."""
    return getattr(verdict, "code", VALID)


SENTINEL_SOURCE = "fuzz-sentinel"


def sentinel(external_id: str) -> bytes:
    """A valid case published behind a batch: one consumer takes messages in order, so once it
    is registered the whole batch has been judged."""
    return json.dumps(
        {
            "schema": "xinfang.case/v1",
            "source": SENTINEL_SOURCE,
            "external_id": external_id,
            "channel": "online",
            "received_at": "2026-05-26T09:30:00+08:00",
            "region": "500112",
            "title": "哨兵",
            "content": "批次结束。",
        }
    ).encode()
