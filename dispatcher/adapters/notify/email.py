"""E-mail over SMTP: a Chinese notice rendered with Jinja2 from templates/escalation.txt.j2.

Every attempt of one notification carries the same Message-ID (built from the
notification's id), so that a copy sent before a crash is recognisable as the same one.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.notifications import DeliveryFailed, Notification

LEVEL_TITLES = {
    "city": "市级",
    "district": "区县级",
    "town": "乡镇（街道）级",
    "village": "村（社区）级",
}
_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_templates = Environment(
    loader=PackageLoader("dispatcher.adapters.notify", "templates"),
    autoescape=False,  # plain text mail
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render_email(payload: Mapping[str, Any], recipient_name: str = "") -> tuple[str, str]:
    """(subject, body) of the notice; the first line of the template is the subject."""
    due = datetime.fromisoformat(payload["clock"]["due_at"]).astimezone(SHANGHAI)
    text = _templates.get_template("escalation.txt.j2").render(
        **payload,
        recipient_name=recipient_name or "您好",
        due_at=f"{due:%Y年%m月%d日 %H:%M}",
        level_title=LEVEL_TITLES.get(payload["level"], payload["level"]),
    )
    subject, _, body = text.partition("\n")
    subject = f"【{payload['step']['title']}】{subject.strip()} — {payload['region']['name']}"
    return subject, body.lstrip("\n")


class SmtpSender:
    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ValueError(
                f"XINFANG_SMTP_URL {parts.scheme}://…: give smtp://, smtp+starttls:// or "
                "smtps://[user:password@]host[:port]"
            )
        self._scheme, self._host = parts.scheme, parts.hostname
        self._port = parts.port or _SCHEMES[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender, self._timeout = sender, timeout

    def send(self, notification: Notification, now: datetime) -> None:
        message = self._message(notification, now)
        try:
            with self._connect() as smtp:
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryFailed(
                f"SMTP {error.smtp_code} from {self._host}", retryable=not permanent
            ) from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            permanent = all(500 <= code < 600 for code in codes)
            raise DeliveryFailed(
                f"SMTP {codes[0] if codes else '?'} (recipient refused) from {self._host}",
                retryable=not permanent,
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"{type(error).__name__} talking to {self._host}") from None

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout)
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def _message(self, notification: Notification, now: datetime) -> EmailMessage:
        subject, body = render_email(notification.payload, notification.recipient_name)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self._sender
        user, _, domain = notification.recipient.partition("@")
        message["To"] = Address(notification.recipient_name, user, domain)
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{notification.id}@xinfang>"
        message["X-Xinfang-Notification"] = notification.id
        message.set_content(body)
        return message
