"""E-mail over SMTP: a short, formal Chinese notice rendered with Jinja2 from templates/.

Every attempt of one notification carries the same Message-ID (built from the
notification's id) and an X-Xinfang-Notification header, so that a copy sent before a crash
is recognisable as the same one. The notice says only what the payload says: the case, its
clock and its unit, never who petitioned.

Packaging note: the templates sit in a data folder beside this module; a non-editable
install ships them only if pyproject's package-data lists ``templates/*.j2``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.ladders import StepKind
from dispatcher.domain.notifications import DeliveryFailed, Notification

LEVEL_TITLES = {
    "city": "市级",
    "district": "区县级",
    "town": "乡镇（街道）级",
    "village": "村（社区）级",
}
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 25, "smtps": 465}
_templates = Environment(
    loader=PackageLoader("dispatcher.adapters.notify", "templates"),
    autoescape=False,  # plain text mail
    undefined=StrictUndefined,  # a payload missing a fact fails loudly, not as a blank
    keep_trailing_newline=True,
)
# What each refusal was, for the one-line reason; the server's own text is left out, as it
# may echo the address or the message.
_REFUSED = {
    smtplib.SMTPSenderRefused: "sender refused",
    smtplib.SMTPDataError: "message refused",
    smtplib.SMTPAuthenticationError: "authentication failed",
    smtplib.SMTPConnectError: "connection refused",
    smtplib.SMTPHeloError: "greeting refused",
}


def render_email(payload: Mapping[str, Any], recipient_name: str = "") -> tuple[str, str]:
    """(subject, body) of the notice of one escalation step, from its payload alone."""
    facts = _facts(payload, recipient_name)
    subject = _templates.get_template("escalation_subject.txt.j2").render(facts)
    body = _templates.get_template("escalation.txt.j2").render(facts)
    return " ".join(subject.split()), body.strip("\n") + "\n"


def _facts(payload: Mapping[str, Any], recipient_name: str) -> dict[str, Any]:
    """The payload, and what the templates show of it in Chinese form."""
    step, clock, unit = payload["step"], payload["clock"], payload["unit"]
    due = _local(clock["due_at"])
    escalated = payload.get("escalated_at")
    # Days left, counting the day of the notice: a warning on the 23rd for a deadline at the
    # end of the 25th has three days (the ladders' "3 days before" means three days left).
    days_left = (due.date() - _local(escalated).date()).days + 1 if escalated else None
    return {
        **payload,
        "greeting": recipient_name.strip() or "您好",
        "case_number": payload.get("external_id") or payload["case_id"],
        "step_title": step.get("title") or StepKind(step["kind"]).chinese,
        "step_round": int(step.get("round") or 0),
        "level_title": LEVEL_TITLES.get(payload["level"], payload["level"]),
        "unit_name": unit.get("name") or unit["id"],
        "due_text": f"{due:%Y年%m月%d日 %H:%M}",
        "days_left": days_left,
    }


def _local(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(SHANGHAI)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


class SmtpSender:
    """Sends to an SMTP server given as ``smtp://[user:password@]host[:port]`` (plain),
    ``smtp+starttls://…`` (upgraded with STARTTLS) or ``smtps://…`` (TLS from the start).
    The port defaults to 25, or 465 for smtps; user and password are percent-decoded."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        shown = _redacted(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(
                f"SMTP url {shown!r}: give smtp://, smtp+starttls:// or "
                "smtps://[user:password@]host[:port]"
            )
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"SMTP url {shown!r}: the port is not a number 1-65535") from None
        self._scheme, self._host = parts.scheme, parts.hostname
        self._port = port or DEFAULT_PORTS[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        if not (self._user or "").isascii() or not self._password.isascii():
            # smtplib's AUTH encodes them as ASCII: fail here, not at every send.
            raise ValueError(f"SMTP url {shown!r}: user and password must be ASCII")
        self._sender, self._timeout = sender, timeout

    def send(self, notification: Notification, now: datetime) -> None:
        message = self._message(notification, now)
        where = f"{self._host}:{self._port}"
        try:
            with self._connect() as smtp:
                if self._scheme == "smtp+starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self._user:
                    smtp.login(self._user, self._password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            permanent = bool(codes) and all(500 <= code < 600 for code in codes)
            code = codes[0] if codes else "?"
            raise DeliveryFailed(
                f"SMTP {code} from {where}: recipient refused", retryable=not permanent
            ) from None
        except smtplib.SMTPResponseException as error:
            # 4xx is the server's "try again later"; 5xx is a refusal for good.
            what = _REFUSED.get(type(error), "refused")
            raise DeliveryFailed(
                f"SMTP {error.smtp_code} from {where}: {what}",
                retryable=not 500 <= error.smtp_code < 600,
            ) from None
        except smtplib.SMTPNotSupportedError:
            # The server lacks STARTTLS, AUTH or SMTPUTF8: the configuration needs fixing.
            raise DeliveryFailed(f"{where} lacks an SMTP extension we need", False) from None
        except OSError as error:  # refused, reset, timed out, TLS; SMTPException is an OSError
            raise DeliveryFailed(f"{type(error).__name__} talking to {where}") from None

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            context = ssl.create_default_context()  # smtplib's own default verifies nothing
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def _message(self, notification: Notification, now: datetime) -> EmailMessage:
        subject, body = render_email(notification.payload, notification.recipient_name)
        message = EmailMessage()  # policy.default: non-ASCII headers are RFC 2047 encoded
        try:
            message["To"] = Address(
                display_name=notification.recipient_name, addr_spec=notification.recipient
            )
        except (ValueError, IndexError, HeaderParseError):
            # The directory holds a bad address: no retry can deliver to it.
            raise DeliveryFailed("the recipient is not an e-mail address", False) from None
        message["From"] = self._sender
        message["Subject"] = subject
        message["Date"] = format_datetime(_aware(now).astimezone(SHANGHAI))
        message["Message-ID"] = f"<{notification.id}@xinfang>"
        message["X-Xinfang-Notification"] = notification.id
        message.set_content(body, charset="utf-8")
        return message


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
