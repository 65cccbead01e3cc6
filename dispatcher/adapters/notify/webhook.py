"""Webhooks signed by the Standard Webhooks scheme (https://www.standardwebhooks.com).

Every attempt of one notification carries the same `webhook-id` (the notification's id): the
receiver's idempotency key. `webhook-timestamp` is the wall-clock time of the attempt, not
the case's (possibly simulated) time, because receivers reject stale signatures.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from dispatcher.domain.notifications import DeliveryFailed, Notification

RETRYABLE_STATUS = frozenset({408, 425, 429})


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def wall_clock() -> datetime:
    return datetime.now(UTC)


class WebhookSender:
    def __init__(
        self,
        secret: str,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        # A whsec_ secret is base64 (the scheme's form); any other text is used as its bytes.
        key: str | bytes = secret if secret.startswith("whsec_") else secret.encode()
        self._signer = Webhook(key)
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._clock = clock

    def send(self, notification: Notification, now: datetime) -> None:
        payload = notification.payload
        body = json.dumps(
            {"type": payload.get("type"), "timestamp": now.isoformat(), "data": payload},
            ensure_ascii=False,
        )
        sent_at = self._clock()
        headers = {
            "webhook-id": notification.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(notification.id, sent_at, body),
            "content-type": "application/json; charset=utf-8",
            "user-agent": "xinfang",
        }
        try:
            response = self._client.post(
                notification.recipient, content=body.encode(), headers=headers
            )
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"{type(error).__name__} from {notification.recipient}") from None
        code = response.status_code
        if 200 <= code < 300:
            return
        retryable = code >= 500 or code in RETRYABLE_STATUS
        raise DeliveryFailed(f"HTTP {code} from {notification.recipient}", retryable=retryable)
