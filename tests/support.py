"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pika
import pytest

from dispatcher.adapters.db import schema
from dispatcher.bootstrap.app import make_engine
from dispatcher.demo.sample import generate

IDENTITY_KEYS = ("name", "id_number", "phone", "address")

# One petitioner with distinctive values, so that a leak into an event, header or reason is
# found by substring.
PETITIONER = {
    "name": "罗平安",
    "id_number": "500107198507165221",
    "phone": "13804749638",
    "address": "重庆市九龙坡区人和街道锦绣华庭7栋2单元5-7号",
}


def phone_case(external_id: str, **fields: Any) -> dict[str, Any]:
    """A valid contract-v1 phone case about an elevator in 渝中区 from PETITIONER, with `fields`
    replaced or added."""
    return {
        "schema": "xinfang.case/v1",
        "source": "cq-12345",
        "external_id": external_id,
        "channel": "phone",
        "received_at": "2026-05-26T09:30:00+08:00",
        "region": "500103",
        "category": "housing",
        "title": "小区加装电梯纠纷",
        "content": "一楼住户阻挠加装电梯施工，社区协调多次未果，请相关部门处理。",
        "petitioner": dict(PETITIONER),
        "people_count": 1,
        "urgent": False,
    } | fields


# Two petitioners of one compound and two matters, for the repeat and collective scenarios.
ALICE = {
    "name": "冉秀英",
    "id_number": "500112197603041524",
    "phone": "+86 139-2301-7746",
    "address": "重庆市渝北区龙溪街道金紫山小区3栋",
}
BOB = {
    "name": "谭德明",
    "id_number": "500112198111230411",
    "phone": "18623085512",
    "address": "重庆市渝北区龙溪街道金紫山小区5栋",
}
ELEVATOR = (
    "我们金紫山小区3栋共18层，54户居民中大多数同意加装电梯，但一楼住户以采光受影响为由"
    "阻挠施工，社区协调4次未果，加装电梯工程已停工40天。"
)
WAGES = (
    "我们30名工人在渝北区建设路由重庆宏达建设工程有限公司承建的工地务工，自3月以来被"
    "拖欠工资共计26万元，包工头已失联，多次讨要未果。"
)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll a condition about concurrent work (not about time) until it holds or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def valid_cases(count: int, seed: int = 7) -> list[dict[str, Any]]:
    return generate(count=count, seed=seed)


def malformed_bodies(count: int) -> list[bytes]:
    """`count` distinct invalid messages of many kinds."""
    base = valid_cases(1, seed=99)[0]
    kinds: list[Callable[[int], bytes]] = [
        lambda i: f"not json {i}".encode(),
        lambda i: json.dumps({**base, "external_id": f"bad-{i}", "channel": "fax"}).encode(),
        lambda i: json.dumps({**base, "external_id": f"bad-{i}", "region": "5001"}).encode(),
        lambda i: json.dumps({**base, "external_id": f"bad-{i}", "people_count": "2"}).encode(),
        lambda i: json.dumps({**base, "external_id": f"bad-{i}", "surprise": True}).encode(),
        lambda i: json.dumps(
            {k: v for k, v in base.items() if k != "title"} | {"external_id": f"bad-{i}"}
        ).encode(),
        lambda i: json.dumps(
            {**base, "external_id": f"bad-{i}", "received_at": "2026-05-26 09:30"}
        ).encode(),
        lambda i: b"\xff\xfe" + str(i).encode(),
        lambda i: json.dumps([i]).encode(),
        lambda i: json.dumps({**base, "external_id": f"bad-{i}", "schema": "v0"}).encode(),
    ]
    return [kinds[i % len(kinds)](i) for i in range(count)]


def publish_raw(url: str, messages: Iterable[tuple[str, bytes]]) -> None:
    """Publish with plain pika, as any AMQP client would: no xinfang code on this side."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.exchange_declare("xinfang.intake", exchange_type="topic", durable=True)
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    for routing_key, body in messages:
        channel.basic_publish("xinfang.intake", routing_key, body, properties)
    connection.close()


def bind_events_queue(url: str, queue: str = "test.events") -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.exchange_declare("xinfang.events", exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, "xinfang.events", routing_key="case.#")
    connection.close()


def drain(url: str, queue: str) -> list[tuple[Any, bytes]]:
    """Every message now in `queue` as (properties, body), acknowledged."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    out = []
    while True:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            break
        out.append((properties, body))
    connection.close()
    return out


def assert_no_identity(text: str, cases: Iterable[dict[str, Any]]) -> None:
    """No petitioner identity in `text` (JSON). A two-character name such as 梁平 is also a
    place name (梁平区), so names are looked for as whole JSON values, the rest anywhere."""
    for case in cases:
        for key in IDENTITY_KEYS:
            value = (case.get("petitioner") or {}).get(key)
            if value and key == "name":
                value = json.dumps(value, ensure_ascii=False)
            if value and value in text:
                at = text.index(value)
                raise AssertionError(f"petitioner {key} leaked: …{text[at - 150 : at + 50]}…")


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BALTIMORE = "baltimore311_2014-2019_sample.csv"


def data_file(name: str) -> Path:
    """A file of the shared real data (../shared/data, or $XINFANG_SHARED_DATA; .ci/run sets it
    beside the repository it cloned), which is never copied into the repository."""
    folder = Path(os.environ.get("XINFANG_SHARED_DATA") or ROOT.parent / "shared" / "data")
    path = folder / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (set XINFANG_SHARED_DATA to the shared data folder)")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def migrated(url: str) -> str:
    """`url`'s database upgraded to the head schema revision, as `xinfang db upgrade` does."""
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    return url
