"""Notifications of an escalation step: who is told, on which channel, and what. Pure.

Each recipient the org directory gives for a step's roles is told on every channel it has
(e-mail, webhook). A notification is a row from the moment the step is recorded (same
transaction, so that a step is never taken without its notifications); its id is the
idempotency key that a webhook receiver sees as `webhook-id` on every retry.

The payload carries the facts of the case and the clock, never the petitioner's identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatcher.domain.errors import XinfangError


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Status(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENDING = "sending"  # claimed by one sender
    SENT = "sent"
    FAILED = "failed"  # the last retry failed: stays visible, retried by hand
    SKIPPED = "skipped"  # the channel is not configured here (say, no SMTP server)


@dataclass(frozen=True)
class Notification:
    id: str  # uuid; the webhook-id and the e-mail's Message-ID
    channel: Channel
    recipient: str  # the webhook URL or the e-mail address
    recipient_name: str  # a job title from the directory, e.g. 渝中区信访办公室主任
    role: str
    payload: Mapping[str, Any]  # see escalation_payload in dispatcher.services.escalation


class DeliveryFailed(XinfangError):
    """A notification could not be delivered this time; `retryable` False means retrying
    cannot help (the receiver refused it for good, e.g. HTTP 410 or SMTP 550)."""

    def __init__(self, reason: str, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.retryable = reason, retryable


def without_identity(text: str, petitioner: Mapping[str, Any] | None) -> str:
    """The text with the petitioner's own name, ID number, phone and address blanked out,
    for a summary that leaves the system in a notification."""
    for field in ("name", "id_number", "phone", "address"):
        value = (petitioner or {}).get(field)
        if isinstance(value, str) and len(value.strip()) >= 2:
            text = text.replace(value.strip(), "＊＊")
    return text
