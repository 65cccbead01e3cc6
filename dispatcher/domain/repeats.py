"""Repeat and collective petitions: who the petitioner is (as keyed hashes only), whether two
petitions are the same matter, and which existing case a new petition joins instead of opening
a case of its own (信访工作条例 2022, Arts 19, 20 and 36).

Pure functions: the service loads candidate cases and stores what these decide.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dispatcher.domain.events import Event, EventType
from dispatcher.domain.regions import Region
from dispatcher.domain.stages import TERMINAL, Stage

# Same matter (repeat petitions): the character-bigram Jaccard similarity of the normalised
# titles reaches TITLE_SIMILARITY, or that of the first CONTENT_PREFIX characters of the contents
# reaches CONTENT_SIMILARITY. Titles are short and templated by the channels ("小区加装电梯纠纷"),
# so half of their bigrams in common already names one matter for one petitioner; contents are
# long and share stock phrases ("恳请相关部门…"), so they need more in common.
TITLE_SIMILARITY = 0.5
CONTENT_SIMILARITY = 0.6
CONTENT_PREFIX = 500
# Contents shorter than this (normalised) say too little to compare ("请处理。"): titles decide.
MIN_CONTENT_CHARS = 30
# Collective petitions join different petitioners, so a wrong link would bury one person's
# matter in another's case: the place must match exactly (the same region code), both must
# carry the same category, the titles must be at least COLLECTIVE_TITLE_SIMILARITY alike and
# the contents at least COLLECTIVE_CONTENT_SIMILARITY. Titles alone are not enough: channels
# file distinct matters under stock titles ("拖欠农民工工资", "垃圾清运不及时"), and over the
# bundled sample title-only matching joined 22 of 600 cases that name different companies,
# roads and estates; contents of one matter told by several people share far more.
COLLECTIVE_TITLE_SIMILARITY = 0.6
COLLECTIVE_CONTENT_SIMILARITY = 0.85

MIN_PHONE_DIGITS = 7  # fewer digits is no phone number: it identifies nobody
MAX_PHONE_DIGITS = 15  # E.164
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Where the decision comes from, cited in the events it produces. Art 19: a superior does not
# accept a matter already accepted or being handled below. Art 36: after re-review the same
# facts and reasons are not accepted again.
ART_19 = "Art 19 (信访工作条例 第十九条第三款)"
ART_36 = "Art 36 (信访工作条例 第三十六条第三款)"


class KeyKind(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"


class LinkKind(StrEnum):
    REPEAT = "repeat"  # the same petitioner, the same matter, within the window
    COLLECTIVE = "collective"  # another petitioner joins an open case on the same matter
    REFUSED_FINAL = "refused_final"  # the matter was re-reviewed: not accepted again (Art 36)


@dataclass(frozen=True)
class PartyKey:
    """One identifier of a petitioner as an HMAC-SHA256 (hex): never the plain value."""

    kind: KeyKind
    value: str


# ---- identity ------------------------------------------------------------------------------


def identity_key_bytes(text: str) -> bytes:
    """The HMAC key from its configured text: hex when it is hex, otherwise its UTF-8 bytes."""
    try:
        return bytes.fromhex(text) if len(text) % 2 == 0 else text.encode("utf-8")
    except ValueError:
        return text.encode("utf-8")


def normalise_id_number(raw: object) -> str | None:
    """A resident ID number (GB 11643: 17 digits and a check character, or the old 15 digits),
    trimmed and upper-cased, full-width characters as ASCII; None for anything else. A
    placeholder ("…", "unknown", "000") identifies nobody and must never join petitions."""
    if not isinstance(raw, str):
        return None
    value = unicodedata.normalize("NFKC", raw).strip().upper()
    if re.fullmatch(r"[0-9]{15}", value) and len(set(value)) > 1:
        return value
    if re.fullmatch(r"[0-9]{17}[0-9X]", value) and value[17] == _check_character(value):
        return value
    return None


def _check_character(id_number: str) -> str:
    """GB 11643-1999: the ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(id_number[:17]))
    return "10X98765432"[total % 11]


def normalise_phone(raw: object) -> str | None:
    """Digits only (full-width ones too), without China's country code (+86, 0086, or 86
    before a number of 10 or more digits: a local number may itself start with 86)."""
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFKC", raw)
    digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) >= 12:  # 86 + 11-digit mobile or area + local
        digits = digits[2:]
    if not MIN_PHONE_DIGITS <= len(digits) <= MAX_PHONE_DIGITS or len(set(digits)) == 1:
        return None  # too short, too long, or a placeholder such as 0000000
    return digits


def party_keys(petitioner: Mapping[str, Any] | None, key: bytes) -> tuple[PartyKey, ...]:
    """The petitioner's keys, one per identifier it carries; () for an anonymous petition."""
    if not isinstance(petitioner, Mapping):
        return ()
    found = (
        (KeyKind.ID_NUMBER, normalise_id_number(petitioner.get("id_number"))),
        (KeyKind.PHONE, normalise_phone(petitioner.get("phone"))),
    )
    return tuple(PartyKey(kind, _hmac(key, value)) for kind, value in found if value)


def _hmac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()


# ---- similarity ----------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """Full-width to half-width, lower case, without spaces and punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of the normalised text (a one-character text is its own gram)."""
    norm = normalise_text(text)
    if len(norm) < 2:
        return frozenset({norm}) if norm else frozenset()
    return frozenset(norm[i : i + 2] for i in range(len(norm) - 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character bigrams, 0.0 to 1.0; 0.0 when either text is empty."""
    left, right = bigrams(a), bigrams(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@dataclass(frozen=True)
class Matter:
    """What a petition is about, and where and when it was made."""

    region: Region
    category: str | None
    title: str
    content: str
    received_at: datetime
    people_count: int = 1

    @classmethod
    def of(cls, message: Mapping[str, Any], received_at: datetime) -> Matter:
        return cls(
            Region(message["region"]),
            message.get("category"),
            message["title"],
            message["content"][:CONTENT_PREFIX],
            received_at,
            message.get("people_count", 1),
        )


def content_similarity(a: str, b: str) -> float:
    """Similarity of the first CONTENT_PREFIX characters; 0.0 when either says too little."""
    left, right = a[:CONTENT_PREFIX], b[:CONTENT_PREFIX]
    if min(len(normalise_text(left)), len(normalise_text(right))) < MIN_CONTENT_CHARS:
        return 0.0
    return similarity(left, right)


def same_matter(a: Matter, b: Matter) -> bool:
    """One petitioner's same matter: the same category when both have one, and similar titles
    or similar contents."""
    if a.category and b.category and a.category != b.category:
        return False
    return (
        similarity(a.title, b.title) >= TITLE_SIMILARITY
        or content_similarity(a.content, b.content) >= CONTENT_SIMILARITY
    )


def same_collective_matter(new: Matter, existing: Matter) -> bool:
    """One matter of many petitioners: a collective petition on either side (people_count > 1:
    separate individuals with look-alike complaints stay separate cases), the same region
    code, the same category, alike titles and alike contents (see
    COLLECTIVE_CONTENT_SIMILARITY for why both)."""
    collective = new.people_count > 1 or existing.people_count > 1
    return (
        collective
        and new.region == existing.region
        and new.category is not None
        and new.category == existing.category
        and similarity(new.title, existing.title) >= COLLECTIVE_TITLE_SIMILARITY
        and content_similarity(new.content, existing.content) >= COLLECTIVE_CONTENT_SIMILARITY
    )


# ---- choosing the case to join ---------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An existing case that might be the one a new petition belongs to."""

    case_id: str
    matter: Matter
    stage: Stage
    org_unit_id: str | None = None
    final_case_id: str | None = None  # set when re-review decided the matter (Art 36)


@dataclass(frozen=True)
class Link:
    case_id: str
    kind: LinkKind
    final_case_id: str | None = None  # REFUSED_FINAL: the re-review case that decided it
    already_handled_by: str | None = None  # Art 19: the body below that has the matter
    art_19: bool = False


def find_repeat(new: Matter, candidates: Iterable[Candidate], window: timedelta) -> Link | None:
    """The case of the same petitioner on the same matter that a new petition joins.

    A matter decided by re-review is never accepted again, however long ago (Art 36); otherwise
    the case must have been received within `window` of the new petition. An open case is
    preferred to a finished one, and a recent one to an older one."""
    matches = [c for c in candidates if same_matter(new, c.matter)]
    final = [c for c in matches if c.stage is Stage.FINAL]
    if final:
        chosen = _latest(final)
        return Link(
            chosen.case_id,
            LinkKind.REFUSED_FINAL,
            final_case_id=chosen.final_case_id or chosen.case_id,
        )
    recent = [c for c in matches if abs(new.received_at - c.matter.received_at) <= window]
    if not recent:
        return None
    chosen = max(recent, key=lambda c: (c.stage not in TERMINAL, c.matter.received_at))
    art_19 = arrives_above(new.region, chosen.matter.region)
    return Link(
        chosen.case_id,
        LinkKind.REPEAT,
        art_19=art_19,
        already_handled_by=chosen.org_unit_id if art_19 else None,
    )


def find_collective(new: Matter, candidates: Iterable[Candidate], window: timedelta) -> Link | None:
    """The open case on the same matter, from the same place and days, that a petition of
    another petitioner joins as one more party (Art 20: many petitioners, one matter)."""
    matches = [
        c
        for c in candidates
        if c.stage not in TERMINAL
        and abs(new.received_at - c.matter.received_at) <= window
        and same_collective_matter(new, c.matter)
    ]
    if not matches:
        return None
    best = max(matches, key=lambda c: (similarity(new.title, c.matter.title), c.matter.received_at))
    return Link(best.case_id, LinkKind.COLLECTIVE)


def arrives_above(new: Region, existing: Region) -> bool:
    """The new petition comes to the existing case's own level or a level above it (Art 19:
    the superior does not accept a matter already accepted or being handled below)."""
    return new == existing or new in existing.ancestors()


def _latest(candidates: Sequence[Candidate]) -> Candidate:
    return max(candidates, key=lambda c: c.matter.received_at)


# ---- what a link records ---------------------------------------------------------------------


@dataclass(frozen=True)
class Via:
    """The intake message that joined a case: its key and channel, never its petitioner."""

    source: str
    external_id: str
    channel: str
    received_at: datetime


def link_event(
    link: Link, case: tuple[str, str], via: Via, now: datetime, people_count_now: int | None = None
) -> Event:
    """The event on the existing case (whose (source, external_id) is `case`) that records the
    petition joining it. It carries no identity: the party keys stay in case_parties."""
    data: dict[str, Any] = {
        "channel": via.channel,
        "received_at": via.received_at.isoformat(),
        "via": {"source": via.source, "external_id": via.external_id},
    }
    if link.kind is LinkKind.REFUSED_FINAL:
        kind = EventType.REPEAT_REFUSED
        data |= {"final_case_id": link.final_case_id, "basis": ART_36}
    elif link.kind is LinkKind.COLLECTIVE:
        kind = EventType.PARTY_ADDED
        data |= {"people_count_now": people_count_now}
    else:
        kind = EventType.REPEAT_LINKED
        if link.art_19:
            data |= {"already_handled_by": link.already_handled_by, "basis": ART_19}
    return Event(kind, now, link.case_id, case[0], case[1], data)
