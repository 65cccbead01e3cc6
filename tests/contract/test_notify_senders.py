"""The notification senders, on real receivers and on their in-memory twin, by the same tests.

- real: an HTTP endpoint (pytest-httpserver) that verifies the Standard Webhooks signature as
  a receiver would, and an SMTP server (aiosmtpd) that parses what it is handed;
- twin: MemorySender, checked through the notification it recorded.

An `Endpoint` decodes what its receiver got into `Delivered`, the same way for both, so one
test body checks both. The case's time (NOW) is days away from the wall clock on purpose:
the webhook's signature must still verify, the body and the Date header must still say NOW.
"""

from __future__ import annotations

import copy
import email
import email.policy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from support import free_port

from dispatcher.adapters.notify.email import SmtpSender, render_email
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.adapters.notify.webhook import WebhookSender, generate_secret
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.notifications import (
    Channel,
    DeliveryFailed,
    Notification,
    without_identity,
)

SECRET = generate_secret()
NOW = datetime(2026, 7, 30, 9, 0, tzinfo=SHANGHAI)  # the moment the step is taken
MAILBOX = "zjw@yuzhong.cq.example"
HEAD = "渝中区住房和城乡建设委员会主任"
SMTP_USER, SMTP_PASSWORD = "clerk", "p@ss word"  # in the URL as p%40ss%20word

# Who petitioned: known to the case, never to a notification.
PETITIONER = {
    "name": "张秀英",
    "phone": "13812345678",
    "id_number": "500103198001011234",
    "address": "渝中区解放碑街道民族路88号",
}
TITLE = "张秀英（13812345678）反映小区电梯长期故障无人维修"
PAYLOAD: dict[str, Any] = {
    "type": "case.escalated",
    "event_id": "6f1c2e8a-0b7d-4a51-9a3e-2d4b5c6d7e8f",
    "case_id": "0b9e4c1d-3f2a-4e6b-8c7d-1a2b3c4d5e6f",
    "source": "12345-cq",
    "external_id": "CQ-2026-000123",
    "summary": without_identity(TITLE, PETITIONER),
    "category": "housing",
    "region": {"code": "500103", "name": "渝中区"},
    "unit": {"id": "500103:housing", "name": "渝中区住房和城乡建设委员会"},
    "step": {"key": "supervision", "kind": "supervision", "title": "督办", "round": 0},
    "level": "district",
    "target_region": {"code": "500103", "name": "渝中区"},
    "roles": ["petition_chief"],
    "clock": {
        "name": "handling",
        "title": "办理期限",
        "article": "Art 34",
        "basis": "应当自受理之日起60日内办结",
        "started_at": "2026-05-27T02:00:00+00:00",
        "due_at": "2026-07-27T15:59:59+00:00",
    },
    "days_overdue": 3,
    "escalated_at": NOW.isoformat(),
}


def notification(
    channel: Channel, recipient: str, payload: dict[str, Any] = PAYLOAD
) -> Notification:
    key = "5d0c3a9e-7b1f-4c2d-9e8a-0f1e2d3c4b5a" if channel is Channel.EMAIL else "w-1"
    return Notification(key, channel, recipient, HEAD, "unit_head", payload)


def assert_one_line_without_facts(failure: DeliveryFailed) -> None:
    assert failure.reason and "\n" not in failure.reason and len(failure.reason) < 200
    for fact in (PAYLOAD["summary"], PAYLOAD["unit"]["name"], PAYLOAD["clock"]["basis"]):
        assert fact not in failure.reason


# -- what a receiver got, for either implementation ---------------------------------------


@dataclass(frozen=True)
class Delivered:
    id: str  # the webhook-id; the id in the Message-ID (and X-Xinfang-Notification)
    recipient: str  # the URL posted to; the envelope recipient
    recipient_name: str  # the To header's display name ("" for a webhook)
    at: datetime  # the body's timestamp; the Date header
    payload: dict[str, Any]  # the webhook's data ({} for an e-mail)
    text: str  # the webhook's body; the e-mail's subject and body


class Endpoint:
    kind: str
    sender: Any  # WebhookSender, SmtpSender or MemorySender: send(notification, now)

    def address(self) -> str:
        raise NotImplementedError

    def received(self) -> list[Delivered]:
        """The copies the receiver accepted."""
        raise NotImplementedError

    def attempt_ids(self) -> list[str]:
        """The notification id of every attempt the receiver saw, accepted or not."""
        raise NotImplementedError

    def refuse_next(self, code: int, retryable: bool, stage: str = "") -> None:
        """The receiver answers the next attempt with `code` (the twin: fails as told)."""
        raise NotImplementedError

    def go_down(self) -> None:
        """Nothing listens at the address any more."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class TwinEndpoint(Endpoint):
    kind = "twin"

    def __init__(self, channel: Channel) -> None:
        self.channel, self.sender = channel, MemorySender()

    def address(self) -> str:
        return MAILBOX if self.channel is Channel.EMAIL else "http://twin.invalid/hook"

    def received(self) -> list[Delivered]:
        found = []
        for sent, now in self.sender.sent:
            if sent.channel is Channel.EMAIL:
                name, payload, text = (
                    sent.recipient_name,
                    {},
                    "\n".join(render_email(sent.payload, sent.recipient_name)),
                )
            else:
                name, payload = "", dict(sent.payload)
                text = json.dumps({"type": payload["type"], "data": payload}, ensure_ascii=False)
            found.append(Delivered(sent.id, sent.recipient, name, now, payload, text))
        return found

    def attempt_ids(self) -> list[str]:
        return [attempt.id for attempt, _ in self.sender.attempts]

    def refuse_next(self, code: int, retryable: bool, stage: str = "") -> None:
        self.sender.fail_next(1, retryable=retryable)

    def go_down(self) -> None:
        self.sender.fail_next(1)  # the one attempt the test makes


class RealWebhook(Endpoint):
    kind = "real"

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        server.expect_request("/hook", method="POST").respond_with_data("ok")
        self.url = server.url_for("/hook")
        self.sender = WebhookSender(SECRET, timeout=2.0)

    def address(self) -> str:
        return self.url

    def received(self) -> list[Delivered]:
        found = []
        for request, response in self.server.log:
            if not 200 <= response.status_code < 300:
                continue
            body = request.get_data(as_text=True)
            assert request.headers["content-type"] == "application/json"
            message = Webhook(SECRET).verify(body, dict(request.headers))  # raises if forged
            assert set(message) == {"type", "timestamp", "data"}
            assert message["type"] == message["data"]["type"]
            at = datetime.fromisoformat(message["timestamp"])
            found.append(
                Delivered(request.headers["webhook-id"], request.url, "", at, message["data"], body)
            )
        return found

    def attempt_ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request, _ in self.server.log]

    def refuse_next(self, code: int, retryable: bool, stage: str = "") -> None:
        self.server.expect_oneshot_request("/hook", method="POST").respond_with_data(
            "refused", status=code
        )

    def go_down(self) -> None:
        self.url = f"http://127.0.0.1:{free_port()}/hook"

    def close(self) -> None:
        self.sender.close()


class Inbox:
    """aiosmtpd handler and authenticator: keeps every message, refuses when told to."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.attempts: list[bytes] = []  # every DATA, accepted or not
        self.refuse: dict[str, int] = {}  # stage (AUTH, MAIL, RCPT, DATA) -> code, once

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        # Not once: smtplib tries the next mechanism (PLAIN, then LOGIN) after a refusal.
        if code := self.refuse.get("AUTH"):
            return AuthResult(success=False, handled=False, message=f"{code} 5.7.8 no")
        good = auth_data == LoginPassword(SMTP_USER.encode(), SMTP_PASSWORD.encode())
        return AuthResult(success=good, handled=False)

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if code := self.refuse.pop("MAIL", None):
            return f"{code} 5.7.1 sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if code := self.refuse.pop("RCPT", None):
            return f"{code} 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts.append(envelope.content)
        if code := self.refuse.pop("DATA", None):
            return f"{code} 5.7.0 message refused"
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[return-value]


def _notification_id(message: email.message.EmailMessage) -> str:
    found = re.fullmatch(r"<([^@<>]+)@xinfang>", str(message["Message-ID"]))
    same = found and found.group(1) == str(message["X-Xinfang-Notification"])
    return found.group(1) if found and same else f"bad Message-ID {message['Message-ID']}"


class RealMail(Endpoint):
    kind = "real"

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.smtp = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=self.inbox,
            auth_require_tls=False,  # no certificates in a test; the login path is the same
        )
        self.smtp.start()
        self.sender = self.sender_for(self.smtp.port)

    @staticmethod
    def sender_for(port: int) -> SmtpSender:
        url = f"smtp://{SMTP_USER}:p%40ss%20word@127.0.0.1:{port}"
        return SmtpSender(url, "督办系统 <xinfang@cq.example>", timeout=2.0)

    def address(self) -> str:
        return MAILBOX

    def received(self) -> list[Delivered]:
        found = []
        for recipients, content in self.inbox.messages:
            message = _parsed(content)
            assert message.get_content_type() == "text/plain"
            assert message.get_content_charset() == "utf-8"
            (to,) = message["To"].addresses
            assert recipients == [to.addr_spec]
            at = parsedate_to_datetime(str(message["Date"]))
            text = f"{message['Subject']}\n{message.get_content()}"
            found.append(
                Delivered(_notification_id(message), recipients[0], to.display_name, at, {}, text)
            )
        return found

    def attempt_ids(self) -> list[str]:
        return [_notification_id(_parsed(content)) for content in self.inbox.attempts]

    def refuse_next(self, code: int, retryable: bool, stage: str = "RCPT") -> None:
        self.inbox.refuse[stage] = code

    def go_down(self) -> None:
        self.sender = self.sender_for(free_port())

    def close(self) -> None:
        self.smtp.stop()


@pytest.fixture(params=["twin", "real"])
def webhook(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    endpoint: Endpoint
    if request.param == "twin":
        endpoint = TwinEndpoint(Channel.WEBHOOK)
    else:
        endpoint = RealWebhook(request.getfixturevalue("httpserver"))
    try:
        yield endpoint
    finally:
        endpoint.close()


@pytest.fixture(params=["twin", "real"])
def mail(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    endpoint = TwinEndpoint(Channel.EMAIL) if request.param == "twin" else RealMail()
    try:
        yield endpoint
    finally:
        endpoint.close()


def assert_no_identity(text: str) -> None:
    for value in PETITIONER.values():
        assert value not in text


# -- webhooks -----------------------------------------------------------------------------


def test_the_fixture_payload_carries_no_identity() -> None:
    assert_no_identity(json.dumps(PAYLOAD, ensure_ascii=False))  # else the tests prove nothing


def test_a_webhook_arrives_once_signed_under_the_notification_id(webhook: Endpoint) -> None:
    sent = notification(Channel.WEBHOOK, webhook.address())
    webhook.sender.send(sent, NOW)

    (got,) = webhook.received()
    assert (got.id, got.recipient) == (sent.id, sent.recipient)
    assert got.payload == PAYLOAD
    assert got.at == NOW  # the case's time, though the signature is the wall clock's
    assert_no_identity(got.text)
    assert webhook.attempt_ids() == [sent.id]


def test_a_retry_after_503_carries_the_same_webhook_id(webhook: Endpoint) -> None:
    sent = notification(Channel.WEBHOOK, webhook.address())
    webhook.refuse_next(503, retryable=True)
    with pytest.raises(DeliveryFailed) as failed:
        webhook.sender.send(sent, NOW)
    assert failed.value.retryable
    assert_one_line_without_facts(failed.value)

    webhook.sender.send(sent, NOW)
    assert webhook.attempt_ids() == [sent.id, sent.id]  # the receiver's idempotency key
    assert [got.id for got in webhook.received()] == [sent.id]


@pytest.mark.parametrize(
    ("code", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (410, False), (404, False), (301, False)],
)
def test_a_refused_webhook_says_whether_a_retry_can_help(
    webhook: Endpoint, code: int, retryable: bool
) -> None:
    sent = notification(Channel.WEBHOOK, webhook.address())
    webhook.refuse_next(code, retryable)
    with pytest.raises(DeliveryFailed) as failed:
        webhook.sender.send(sent, NOW)
    assert failed.value.retryable is retryable
    assert_one_line_without_facts(failed.value)
    if webhook.kind == "real":
        assert failed.value.reason == f"HTTP {code} from {webhook.address()}"
    assert webhook.received() == []
    assert webhook.attempt_ids() == [sent.id]


def test_an_unreachable_webhook_is_retryable(webhook: Endpoint) -> None:
    webhook.go_down()
    with pytest.raises(DeliveryFailed) as failed:
        webhook.sender.send(notification(Channel.WEBHOOK, webhook.address()), NOW)
    assert failed.value.retryable
    assert_one_line_without_facts(failed.value)
    assert webhook.received() == []


# -- e-mail -------------------------------------------------------------------------------


def test_an_email_arrives_once_at_its_recipient(mail: Endpoint) -> None:
    sent = notification(Channel.EMAIL, mail.address())
    mail.sender.send(sent, NOW)

    (got,) = mail.received()
    assert (got.id, got.recipient, got.recipient_name) == (sent.id, MAILBOX, HEAD)
    assert got.at == NOW
    subject, body = got.text.split("\n", 1)
    assert subject == "【督办】信访事项 CQ-2026-000123 办理期限已超期3日 — 渝中区"
    assert "超期天数：3日" in body
    assert "承办单位：渝中区住房和城乡建设委员会" in body
    assert "Art 34，应当自受理之日起60日内办结" in body
    assert "2026年07月27日 23:59" in body  # the deadline in Beijing time
    assert "不含信访人个人信息" in body
    assert got.text == "\n".join(render_email(PAYLOAD, HEAD))  # nothing but the notice
    assert_no_identity(got.text)
    assert mail.attempt_ids() == [sent.id]


def test_an_email_retried_after_451_keeps_its_message_id(mail: Endpoint) -> None:
    sent = notification(Channel.EMAIL, mail.address())
    mail.refuse_next(451, retryable=True, stage="DATA")
    with pytest.raises(DeliveryFailed) as failed:
        mail.sender.send(sent, NOW)
    assert failed.value.retryable
    mail.sender.send(sent, NOW)
    assert mail.attempt_ids() == [sent.id, sent.id]
    assert [got.id for got in mail.received()] == [sent.id]


@pytest.mark.parametrize(
    ("stage", "code", "retryable"),
    [
        ("RCPT", 550, False),
        ("RCPT", 450, True),
        ("DATA", 554, False),
        ("MAIL", 553, False),
        ("MAIL", 451, True),
        ("AUTH", 535, False),
        ("AUTH", 454, True),
    ],
)
def test_a_refused_email_says_whether_a_retry_can_help(
    mail: Endpoint, stage: str, code: int, retryable: bool
) -> None:
    mail.refuse_next(code, retryable, stage)
    with pytest.raises(DeliveryFailed) as failed:
        mail.sender.send(notification(Channel.EMAIL, mail.address()), NOW)
    assert failed.value.retryable is retryable
    assert_one_line_without_facts(failed.value)
    assert MAILBOX not in failed.value.reason
    if mail.kind == "real":
        assert failed.value.reason.startswith(f"SMTP {code} from 127.0.0.1:")
    assert mail.received() == []


def test_an_unreachable_smtp_server_is_retryable(mail: Endpoint) -> None:
    mail.go_down()
    with pytest.raises(DeliveryFailed) as failed:
        mail.sender.send(notification(Channel.EMAIL, mail.address()), NOW)
    assert failed.value.retryable
    assert_one_line_without_facts(failed.value)
    assert mail.received() == []


# -- the notice, as text ------------------------------------------------------------------


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [str(value)]


def _skeleton(payload: dict[str, Any]) -> str:
    """The notice with every fact of the payload (the deadline as shown, and the recipient's
    title in the greeting) blanked out."""
    text = "\n".join(render_email(payload, HEAD))
    due = datetime.fromisoformat(payload["clock"]["due_at"]).astimezone(SHANGHAI)
    facts = [*_leaves(payload), f"{due:%Y年%m月%d日 %H:%M}", HEAD]  # HEAD: the greeting
    for fact in sorted(set(facts), key=len, reverse=True):
        text = text.replace(fact, "·")
    return text


def test_the_notice_holds_nothing_but_the_payloads_facts() -> None:
    other = copy.deepcopy(PAYLOAD)
    other.update(
        case_id="77777777-8888-4999-aaaa-bbbbbbbbbbbb",
        source="letters-cq",
        external_id="XF-2026-9",
        summary="道路积水",
        region={"code": "500105", "name": "江北区"},
        unit={"id": "500105:roads", "name": "江北区城市管理局"},
        target_region={"code": "500105", "name": "江北区"},
        days_overdue=11,
    )
    other["clock"].update(
        title="受理告知期限",
        article="Art 23",
        basis="应当自收到之日起15日内书面告知",
        due_at="2026-06-10T15:59:59+00:00",
    )
    # Two notices that differ in every fact are the same text once the facts are gone: the
    # rest is the template's own wording, so a fact from anywhere else would show here.
    assert _skeleton(PAYLOAD) == _skeleton(other)
    assert "·" in _skeleton(PAYLOAD)


@pytest.mark.parametrize(
    ("escalated_at", "wording"),
    [
        ("2026-07-25T09:00:00+08:00", "距办理期限届满尚余3日"),
        ("2026-07-27T09:00:00+08:00", "办理期限今日届满"),
    ],
)
def test_a_warning_says_how_long_is_left(escalated_at: str, wording: str) -> None:
    warning = copy.deepcopy(PAYLOAD)
    warning.update(days_overdue=0, escalated_at=escalated_at)
    warning["step"] = {"key": "warning", "kind": "warning", "title": "预警", "round": 0}
    subject, body = render_email(warning)
    assert subject == f"【预警】信访事项 CQ-2026-000123 {wording} — 渝中区"
    assert f"下列信访事项{wording}，现予预警。" in body
    assert "超期" not in subject + body
    assert body.startswith("您好：")


def test_a_repeated_step_says_which_time() -> None:
    again = copy.deepcopy(PAYLOAD)
    again["step"] = {"key": "listed.1", "kind": "listed", "title": "挂牌督办", "round": 1}
    subject, body = render_email(again)
    assert subject.startswith("【挂牌督办】")
    assert "现予挂牌督办（第2次）" in body


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://mail.example", "smtp://", "smtp://:secret@:25", "smtp://mail.example:port", "mail"],
)
def test_a_bad_smtp_url_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(ValueError) as refused:
        SmtpSender(url, "xinfang@cq.example")
    assert "\n" not in str(refused.value) and "secret" not in str(refused.value)


def test_smtp_credentials_must_be_ascii() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        SmtpSender("smtp://clerk:%E5%8F%A3%E4%BB%A4@mail.example", "xinfang@cq.example")


def _signed_with(secret: str) -> httpx.Request:
    captured: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(answer))
    WebhookSender(secret, client=client).send(notification(Channel.WEBHOOK, "http://r/h"), NOW)
    return captured[0]


def test_a_plain_secret_signs_with_its_utf8_bytes() -> None:
    request = _signed_with("共享口令 shared")
    body, headers = request.content, dict(request.headers)
    assert Webhook("共享口令 shared".encode()).verify(body, headers)["data"] == PAYLOAD
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


def test_generated_secrets_are_fresh_and_in_the_schemes_form() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second and first.startswith("whsec_") and len(first) == 6 + 32
    request = _signed_with(first)
    assert Webhook(first).verify(request.content, dict(request.headers))["type"] == PAYLOAD["type"]


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not*base64!"])
def test_a_bad_webhook_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        WebhookSender(secret)


@pytest.mark.parametrize(
    ("error", "retryable"),
    [(httpx.ReadTimeout("slow"), True), (httpx.UnsupportedProtocol("ftp"), False)],
)
def test_a_timeout_is_retryable_and_a_url_we_cannot_speak_is_not(
    error: httpx.HTTPError, retryable: bool
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error

    sender = WebhookSender(SECRET, client=httpx.Client(transport=httpx.MockTransport(answer)))
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(notification(Channel.WEBHOOK, "http://r/h?token=abc"), NOW)
    assert failed.value.retryable is retryable
    assert "token" not in failed.value.reason  # the query may hold the receiver's secret
