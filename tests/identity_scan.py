"""Looking for petitioners' identities in text: the scanner of tests/e2e/test_identity_scan.py.

An identity is one structured field of a case's `petitioner` (contract v1): name, ID number,
phone or address. A leak is found in any of the forms it is likely to take on its way into a
log or a message, not only as given:

- escaped: JSON's \\uXXXX and a bytes repr's \\xNN (the UTF-8 bytes of 罗 are \\xe7\\xbd\\x97);
- in full-width or other compatibility characters (NFKC);
- a phone or ID number with separators (138-0474-9638, 138 0474 9638), an x for an X;
- an address broken by white space (a wrapped line), a name with its spaces doubled.

A value shorter than two characters is not looked for: it would be found everywhere. Nor is
a name looked for inside the words the system writes itself (`vocabulary`: place names): a
petitioner called 梁平 is not named by 梁平区, the district.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FIELDS = ("name", "id_number", "phone", "address")
MIN_CHARS = 2
DIGIT_FIELDS = frozenset({"id_number", "phone"})
EXCERPT_CHARS = 60

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_BYTE_ESCAPES = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_DIGIT_SEPARATOR = re.compile(r"(?<=[0-9])[\s\-.()/]+(?=[0-9Xx])")
_WHITE_SPACE = re.compile(r"\s+")
_BLANK = "\u25a1"  # what a word of the vocabulary becomes before names are looked for


@dataclass(frozen=True)
class Identity:
    field: str  # one of FIELDS
    value: str  # as the petitioner gave it
    needle: str  # what is looked for, in the form of `searched(text, field)`


@dataclass(frozen=True)
class Leak:
    identity: Identity
    where: str  # which of the scanned texts
    excerpt: str  # the text around it, in the searched form

    def __str__(self) -> str:
        return f"{self.where}: {self.identity.field} {self.identity.value!r} in …{self.excerpt}…"


def normalised(value: str, field: str) -> str:
    """A value in the form it is looked for: digits (and an ID's X) only for a phone or an ID
    number, an address without white space, a name with single spaces (Li Ping)."""
    text = unicodedata.normalize("NFKC", value)
    if field in DIGIT_FIELDS:
        return re.sub(r"[^0-9X]", "", text.upper())
    if field == "address":
        return _WHITE_SPACE.sub("", text)
    return " ".join(text.split())


def identities(cases: Iterable[Mapping[str, Any]]) -> list[Identity]:
    """Every distinct identity of the cases' petitioners, each field once per value."""
    found: dict[tuple[str, str], Identity] = {}
    for case in cases:
        petitioner = case.get("petitioner")
        if not isinstance(petitioner, Mapping):
            continue
        for field in FIELDS:
            value = petitioner.get(field)
            if not isinstance(value, str):
                continue
            needle = normalised(value, field)
            if len(needle) >= MIN_CHARS:
                found.setdefault((field, needle), Identity(field, value, needle))
    return list(found.values())


def readable(text: str) -> str:
    """The text with escapes undone and compatibility characters folded (NFKC)."""
    text = _UNICODE_ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)
    text = _BYTE_ESCAPES.sub(_decoded_bytes, text)
    return unicodedata.normalize("NFKC", text)


def _decoded_bytes(match: re.Match[str]) -> str:
    raw = bytes(int(pair, 16) for pair in match[0].split("\\x")[1:])
    return raw.decode("utf-8", errors="replace")


def searched(text: str, field: str) -> str:
    """The readable text in the form a field's needle is looked for in."""
    if field in DIGIT_FIELDS:
        return _DIGIT_SEPARATOR.sub("", text).upper()
    if field == "address":
        return _WHITE_SPACE.sub("", text)
    # A name: white space is kept (two words apart are not one name), each run as one space.
    return _WHITE_SPACE.sub(" ", text)


def find_leaks(
    texts: Mapping[str, str], wanted: Iterable[Identity], vocabulary: Iterable[str] = ()
) -> list[Leak]:
    """Every identity found in any of the texts (named by their keys), once per text."""
    by_field: dict[str, list[Identity]] = {}
    for identity in wanted:
        by_field.setdefault(identity.field, []).append(identity)
    words = sorted(set(vocabulary), key=len, reverse=True)  # 九龙坡区 before 九龙坡
    leaks: list[Leak] = []
    for where, text in texts.items():
        clear = readable(text)
        for field, some in by_field.items():
            form = searched(clear, field)
            if field == "name":
                form = _blanked(form, words)
            leaks += _leaks_in(form, where, some, field in DIGIT_FIELDS)
    return leaks


def _blanked(text: str, words: list[str]) -> str:
    for word in words:
        text = text.replace(word, _BLANK)
    return text


def _digit_runs(text: str, shortest: int) -> str:
    """The distinct runs of digits at least `shortest` long, one a line: where a phone or an
    ID number can be, a small part of a log full of digits (times, counts, ids)."""
    runs = set(re.findall(f"[0-9X]{{{shortest},}}", text))
    return "\n".join(sorted(runs))


def _leaks_in(text: str, where: str, wanted: list[Identity], digits: bool) -> list[Leak]:
    shortest = min((len(identity.needle) for identity in wanted), default=0)
    haystack = _digit_runs(text, shortest) if digits else text
    leaks = []
    for identity in wanted:
        if identity.needle not in haystack:
            continue
        at = text.find(identity.needle)
        if at >= 0:
            start = max(0, at - EXCERPT_CHARS)
            excerpt = text[start : at + len(identity.needle) + EXCERPT_CHARS]
            leaks.append(Leak(identity, where, excerpt.replace("\n", " ")))
    return leaks
