"""The pure rules of repeat and collective petitions: party keys, similarity, the same matter,
which case a new petition joins, and what the link's event says (no identity)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.domain.events import EventType
from dispatcher.domain.regions import Region
from dispatcher.domain.repeats import (
    ART_19,
    ART_36,
    COLLECTIVE_CONTENT_SIMILARITY,
    CONTENT_SIMILARITY,
    TITLE_SIMILARITY,
    Candidate,
    KeyKind,
    Link,
    LinkKind,
    Matter,
    Via,
    arrives_above,
    find_collective,
    find_repeat,
    identity_key_bytes,
    link_event,
    normalise_id_number,
    normalise_phone,
    party_keys,
    same_collective_matter,
    same_matter,
    similarity,
)
from dispatcher.domain.stages import Stage

KEY = b"k" * 32
AT = datetime(2026, 5, 26, 1, 30, tzinfo=UTC)
WINDOW = timedelta(days=90)
ELEVATOR = (
    "一楼住户阻挠加装电梯施工，我们小区3栋共18层，大多数住户同意加装电梯，社区协调"
    "多次未果，工程已停工40天，请相关部门处理。"
)
WAGES = (
    "我们30名工人在渝北区建设路由重庆宏达建设工程有限公司承建的工地务工，自3月以来被"
    "拖欠工资共计26万元，包工头已失联。"
)


def matter(
    title: str = "锦绣华庭小区加装电梯纠纷",
    content: str = ELEVATOR,
    category: str | None = "housing",
    region: str = "500107",
    at: datetime = AT,
) -> Matter:
    return Matter(Region(region), category, title, content, at)


def candidate(
    case_id: str = "c1",
    stage: Stage = Stage.ASSIGNED,
    org: str | None = "500107:housing",
    final: str | None = None,
    **fields: object,
) -> Candidate:
    return Candidate(case_id, matter(**fields), stage, org, final)  # type: ignore[arg-type]


# -- identity ------------------------------------------------------------------------------


def test_party_keys_are_hmacs_of_the_normalised_id_number_and_phone() -> None:
    keys = party_keys(
        {"name": "罗平安", "id_number": " 500107198507165221 ", "phone": "+86 138-0474-9638"}, KEY
    )

    expected = {
        KeyKind.ID_NUMBER: hmac.new(KEY, b"500107198507165221", hashlib.sha256).hexdigest(),
        KeyKind.PHONE: hmac.new(KEY, b"13804749638", hashlib.sha256).hexdigest(),
    }
    assert {key.kind: key.value for key in keys} == expected
    assert "13804749638" not in json.dumps([key.value for key in keys])


@pytest.mark.parametrize(
    "phone",
    [
        "13804749638",
        "+8613804749638",
        "86 138 0474 9638",
        "008613804749638",
        "138-0474-9638",
        "１３８０４７４９６３８",
    ],
)
def test_one_phone_written_many_ways_gives_one_key(phone: str) -> None:
    assert party_keys({"phone": phone}, KEY) == party_keys({"phone": "13804749638"}, KEY)


def test_a_local_number_starting_with_86_keeps_its_digits() -> None:
    assert normalise_phone("8612 3456") == "86123456"  # a Chongqing landline, not +86
    assert normalise_phone("023-8612-3456") == "02386123456"


@pytest.mark.parametrize(
    "petitioner",
    [
        None,
        {},
        {"name": "罗平安"},
        {"phone": "无"},
        {"id_number": "  "},
        {"phone": 13804749638},
        "罗平安",
    ],
)
def test_anonymous_or_unidentifiable_petitioners_have_no_keys(petitioner: object) -> None:
    assert party_keys(petitioner, KEY) == ()  # type: ignore[arg-type]


def test_another_key_gives_other_hashes() -> None:
    petitioner = {"id_number": "500107198507165221"}
    assert party_keys(petitioner, KEY) != party_keys(petitioner, b"j" * 32)


def test_the_identity_key_is_hex_when_it_is_hex_and_text_otherwise() -> None:
    assert identity_key_bytes("00ff" * 8) == bytes.fromhex("00ff" * 8)
    assert identity_key_bytes("not hex at all, just text") == b"not hex at all, just text"
    assert identity_key_bytes("abcdefabcdefabcde") == b"abcdefabcdefabcde"  # odd length
    assert normalise_id_number(" 500107198507165221") == "500107198507165221"


# -- similarity ------------------------------------------------------------------------------


def test_similarity_is_bigram_jaccard_over_normalised_text() -> None:
    assert similarity("小区加装电梯纠纷", "小区加装电梯纠纷！") == 1.0
    assert similarity("ＡＢＣ", "abc") == 1.0  # full width and case
    assert similarity("小区加装电梯", "") == 0.0
    # 加装 装电 电梯 in common; 小区 区加 / 纠纷 梯纠 on one side only: 3 of 8.
    assert similarity("小区加装电梯", "加装电梯纠纷") == pytest.approx(3 / 7)


@pytest.mark.parametrize(
    ("title", "other"),
    [
        ("锦绣华庭小区加装电梯纠纷", "锦绣华庭加装电梯纠纷"),
        ("拖欠农民工工资", "再次反映拖欠农民工工资问题"),
        ("小区加装电梯纠纷", "关于小区加装电梯的纠纷"),
    ],
)
def test_same_matter_by_title(title: str, other: str) -> None:
    assert similarity(title, other) >= TITLE_SIMILARITY
    assert same_matter(
        matter(title=title, content="请处理。"), matter(title=other, content="请尽快处理。")
    )


def test_same_matter_by_content_when_the_titles_differ() -> None:
    later = ELEVATOR.replace("40天", "55天") + "希望领导重视。"
    assert similarity("加装电梯受阻", "锦绣华庭小区加装电梯纠纷") < TITLE_SIMILARITY
    assert similarity(ELEVATOR, later) >= CONTENT_SIMILARITY
    assert same_matter(matter(title="加装电梯受阻", content=later), matter())


@pytest.mark.parametrize(
    "other",
    [
        matter(
            title="物业乱收费、服务差",
            content="物业公司未经业主大会表决上调物业费，服务很差。"
            "小区绿化无人维护，业主多次反映没有结果。",
        ),
        matter(title="拖欠农民工工资", content=WAGES, category="labour"),
        matter(category="labour"),  # the same words under another category
    ],
)
def test_not_the_same_matter(other: Matter) -> None:
    assert not same_matter(matter(), other)


def test_short_equal_contents_do_not_make_different_titles_one_matter() -> None:
    assert not same_matter(
        matter(title="电梯长期故障", content="请处理。"),
        matter(title="物业不作为", content="请处理。"),
    )


def test_a_missing_category_on_one_side_does_not_separate_matters() -> None:
    assert same_matter(matter(category=None), matter())


# -- repeats -------------------------------------------------------------------------------


def test_a_repeat_joins_the_open_case_of_the_same_matter() -> None:
    link = find_repeat(matter(title="加装电梯纠纷"), [candidate()], WINDOW)

    assert link == Link("c1", LinkKind.REPEAT, art_19=True, already_handled_by="500107:housing")


def test_outside_the_window_there_is_no_repeat() -> None:
    old = candidate(at=AT - WINDOW - timedelta(minutes=1))
    assert find_repeat(matter(), [old], WINDOW) is None
    assert find_repeat(matter(), [candidate(at=AT - WINDOW)], WINDOW) is not None


def test_a_different_matter_of_the_same_petitioner_is_no_repeat() -> None:
    wages = candidate(title="拖欠农民工工资", content=WAGES, category="labour")
    assert find_repeat(matter(), [wages], WINDOW) is None


def test_a_final_matter_is_refused_however_old_pointing_to_the_re_review() -> None:
    final = candidate("c0", Stage.FINAL, final="c0-rereview", at=AT - timedelta(days=400))
    link = find_repeat(matter(), [candidate("c1"), final], WINDOW)

    assert link == Link("c0", LinkKind.REFUSED_FINAL, final_case_id="c0-rereview")


def test_an_open_case_is_preferred_to_a_closed_one_then_the_latest() -> None:
    closed = candidate("closed", Stage.CLOSED, at=AT - timedelta(days=1))
    older = candidate("older", at=AT - timedelta(days=30))
    newer = candidate("newer", at=AT - timedelta(days=10))

    link = find_repeat(matter(), [closed, older, newer], WINDOW)

    assert link is not None and link.case_id == "newer"


@pytest.mark.parametrize(
    ("new", "existing", "above"),
    [
        ("500107", "500107", True),  # the same body again
        ("500000", "500107", True),  # the city, over the district that has it
        ("500107", "500107003", True),  # the district, over the town
        ("500107003", "500107", False),  # a town, below the district
        ("500103", "500107", False),  # another district
    ],
)
def test_art_19_applies_when_the_repeat_comes_to_the_same_or_a_higher_level(
    new: str, existing: str, above: bool
) -> None:
    assert arrives_above(Region(new), Region(existing)) is above
    link = find_repeat(matter(region=new), [candidate(region=existing)], WINDOW)
    assert link is not None and link.art_19 is above
    assert link.already_handled_by == ("500107:housing" if above else None)


# -- collectives ---------------------------------------------------------------------------


def test_a_collective_joins_an_open_case_of_the_same_place_category_and_matter() -> None:
    alone = matter(
        title="锦绣华庭小区加装电梯纠纷问题", content=ELEVATOR + "同意加装的住户联名反映。"
    )
    # Look-alike complaints of single petitioners stay separate cases…
    assert not same_collective_matter(alone, matter())
    # …a collective petition (people_count > 1) on one matter joins.
    other_words = dataclasses.replace(alone, people_count=4)
    assert same_collective_matter(other_words, matter())

    link = find_collective(other_words, [candidate()], timedelta(days=7))

    assert link == Link("c1", LinkKind.COLLECTIVE)


@pytest.mark.parametrize(
    "existing",
    [
        candidate(region="500107003"),  # another region code, even a child
        candidate(category="labour"),
        candidate(category=None),
        candidate(stage=Stage.CLOSED),
        candidate(stage=Stage.NOT_ACCEPTED),
        candidate(at=AT - timedelta(days=8)),
        candidate(title="物业乱收费"),
        # A stock title over another estate's facts: a different matter (see the constant).
        candidate(
            content=ELEVATOR.replace("3栋共18层", "11栋共32层")
            .replace("40天", "9天")
            .replace("一楼住户阻挠", "低层住户以采光为由阻挠")
        ),
    ],
)
def test_no_collective(existing: Candidate) -> None:
    assert find_collective(matter(), [existing], timedelta(days=7)) is None


def test_the_collective_content_bar_is_higher_than_the_repeat_one() -> None:
    assert COLLECTIVE_CONTENT_SIMILARITY > CONTENT_SIMILARITY


# -- events ----------------------------------------------------------------------------------

VIA = Via("cq-wsxf", "WS1", "online", AT)


@pytest.mark.parametrize(
    ("link", "kind", "extra"),
    [
        (Link("c1", LinkKind.REPEAT), EventType.REPEAT_LINKED, {}),
        (
            Link("c1", LinkKind.REPEAT, art_19=True, already_handled_by="500107:housing"),
            EventType.REPEAT_LINKED,
            {"already_handled_by": "500107:housing", "basis": ART_19},
        ),
        (
            Link("c1", LinkKind.REFUSED_FINAL, final_case_id="c9"),
            EventType.REPEAT_REFUSED,
            {"final_case_id": "c9", "basis": ART_36},
        ),
        (Link("c1", LinkKind.COLLECTIVE), EventType.PARTY_ADDED, {"people_count_now": 4}),
    ],
)
def test_the_link_event_names_the_message_and_the_law_but_nobody(
    link: Link, kind: EventType, extra: dict[str, object]
) -> None:
    event = link_event(link, ("cq-12345", "HL1"), VIA, AT, people_count_now=4)

    assert (event.type, event.case_id, event.source, event.external_id) == (
        kind,
        "c1",
        "cq-12345",
        "HL1",
    )
    assert (
        event.data
        == {
            "channel": "online",
            "received_at": AT.isoformat(),
            "via": {"source": "cq-wsxf", "external_id": "WS1"},
        }
        | extra
    )


@pytest.mark.parametrize(
    "placeholder", ["…", "unknown", "000000000000000", "110101199003071234", "500107198507165220"]
)
def test_placeholders_and_bad_check_digits_are_no_id_numbers(placeholder: str) -> None:
    assert normalise_id_number(placeholder) is None


@pytest.mark.parametrize("placeholder", ["…", "0000000", "1" * 16, "12345"])
def test_placeholder_phones_identify_nobody(placeholder: str) -> None:
    assert normalise_phone(placeholder) is None
