"""Where notifications land in tests, behind one interface: a real SMTP server (aiosmtpd) and
a real HTTP endpoint (pytest-httpserver) that the test starts, or the senders' in-memory twin.

`Received` is what a receiver saw, decoded the same way for both, so that one test body
checks both. The real webhook's signature is verified with the standardwebhooks package,
as a receiver would.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from standardwebhooks.webhooks import Webhook
from support import free_port

from dispatcher.adapters.notify.email import render_email
from dispatcher.adapters.notify.memory import MemorySender
from dispatcher.domain.notifications import Channel

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DESK_EMAIL = "desk@supervision.test"


@dataclass(frozen=True)
class Received:
    channel: str
    notification_id: str  # webhook-id, or the id in the Message-ID
    recipient: str
    payload: dict[str, Any]
    text: str  # the e-mail's subject and body, or the webhook's body


class Inbox:
    """aiosmtpd handler: every message, as the server got it."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


class RealEndpoints:
    kind = "real"

    def __init__(self, httpserver: HTTPServer) -> None:
        self.http = httpserver
        self.http.expect_request(re.compile(r"^/hooks/.*")).respond_with_data("ok")
        self.inbox = Inbox()
        self.smtp = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp.port}"

    def webhook_url(self, path: str) -> str:
        return self.http.url_for(f"/hooks/{path}")

    def received(self) -> list[Received]:
        return [*self._webhooks(), *self._emails()]

    def _webhooks(self) -> list[Received]:
        found = []
        for request, _ in self.http.log:
            body = request.get_data(as_text=True)
            verified = Webhook(SECRET).verify(body, dict(request.headers))  # raises if forged
            found.append(
                Received(
                    "webhook", request.headers["webhook-id"], request.url, verified["data"], body
                )
            )
        return found

    def _emails(self) -> list[Received]:
        found = []
        for recipients, message in self.inbox.messages:
            notification_id = str(message["X-Xinfang-Notification"])
            assert message["Message-ID"] == f"<{notification_id}@xinfang>"
            text = f"{message['Subject']}\n{message.get_content()}"
            for recipient in recipients:
                found.append(Received("email", notification_id, recipient, {}, text))
        return found

    def close(self) -> None:
        self.smtp.stop()


class TwinEndpoints:
    kind = "twin"
    smtp_url = "smtp://twin.invalid:25"

    def __init__(self) -> None:
        self.sender = MemorySender()

    def webhook_url(self, path: str) -> str:
        return f"http://twin.invalid/hooks/{path}"

    def senders(self) -> dict[Channel, MemorySender]:
        return {Channel.EMAIL: self.sender, Channel.WEBHOOK: self.sender}

    def received(self) -> list[Received]:
        found = []
        for notification, _ in self.sender.sent:
            if notification.channel is Channel.EMAIL:
                subject, body = render_email(notification.payload, notification.recipient_name)
                text, payload = f"{subject}\n{body}", {}
            else:
                payload = dict(notification.payload)
                text = json.dumps({"data": payload}, ensure_ascii=False)
            found.append(
                Received(
                    notification.channel.value,
                    notification.id,
                    notification.recipient,
                    payload,
                    text,
                )
            )
        return found

    def close(self) -> None:
        pass


Endpoints = RealEndpoints | TwinEndpoints


def directory_for(endpoints: Endpoints, folder: Path) -> Path:
    """The bundled directory with every leader's webhook pointed at the test's endpoint."""
    from rules.directory import default_directory_path

    text = default_directory_path().read_text(encoding="utf-8")
    text = re.sub(
        r'"http://notify\.([a-z.]+)\.example/hooks/([a-z]+)"',
        lambda m: f'"{endpoints.webhook_url(m.group(1).replace(".", "-") + "-" + m.group(2))}"',
        text,
    )
    path = folder / "directory.yaml"
    path.write_text(text, encoding="utf-8")
    return path
