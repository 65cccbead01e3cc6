"""Webhooks signed by the Standard Webhooks scheme (https://www.standardwebhooks.com).

Every attempt of one notification carries the same `webhook-id` (the notification's id): the
receiver's idempotency key. `webhook-timestamp` is the wall-clock time of the attempt, not
the `now` the sender is given: that is the case's time, which a sweep run with `--now` (or a
test) sets in the past or future, and receivers reject a signature more than five minutes
off their own clock. The body's `timestamp` is that `now`, the moment the step was sent for.

The secret: a `whsec_…` string is the scheme's form (base64 of the key, as
`generate_secret` makes); any other string is used as its UTF-8 bytes, so a receiver using
the standardwebhooks package verifies it with `Webhook(secret.encode())`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from dispatcher.domain.notifications import DeliveryFailed, Notification

SECRET_PREFIX = "whsec_"
# Worth another attempt: the receiver is busy or timed out waiting for us; any other 4xx is
# the receiver saying no (410 Gone: the endpoint is retired for good).
RETRYABLE_STATUS = frozenset({408, 429})


def generate_secret() -> str:
    """A fresh signing secret in the scheme's form: 24 random bytes, base64, `whsec_` first."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def wall_clock() -> datetime:
    return datetime.now(UTC)


def _signer(secret: str) -> Webhook:
    if not secret.strip() or secret.strip() == SECRET_PREFIX:
        raise ValueError("webhook secret is empty: give whsec_<base64> or a plain string")
    if not secret.startswith(SECRET_PREFIX):
        return Webhook(secret.encode("utf-8"))
    key = secret[len(SECRET_PREFIX) :].rstrip("=")
    try:  # strictly: the package itself skips stray characters, hiding a mangled secret
        base64.b64decode(key + "=" * (-len(key) % 4), validate=True)
    except binascii.Error:
        raise ValueError("webhook secret starts with whsec_ but is not base64") from None
    return Webhook(secret)


def _where(url: str) -> str:
    """The URL without its query and credentials: a reason is logged and shown to operators,
    and a receiver's token often rides in the query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


class WebhookSender:
    def __init__(
        self,
        secret: str,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
        *,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self._signer = _signer(secret)
        self._owns_client = client is None
        # Redirects are not followed: a moved endpoint is a configuration to fix, and a
        # redirect must not carry a signed payload somewhere nobody chose.
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._clock = clock

    def send(self, notification: Notification, now: datetime) -> None:
        payload = notification.payload
        body = json.dumps(
            {"type": payload["type"], "timestamp": now.isoformat(), "data": payload},
            ensure_ascii=False,
        )
        content = body.encode("utf-8")  # the signer encodes `body` the same way
        # sign() reads the time as UTC whatever its zone, so it must be UTC already.
        sent_at = self._clock().astimezone(UTC).replace(microsecond=0)
        headers = {
            "webhook-id": notification.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(notification.id, sent_at, body),
            "content-type": "application/json",
            "user-agent": "xinfang",
        }
        where = _where(notification.recipient)
        try:
            response = self._client.post(notification.recipient, content=content, headers=headers)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            # Not a URL this sender can ever reach: the directory needs fixing.
            raise DeliveryFailed(f"{type(error).__name__}: {where}", retryable=False) from None
        except httpx.HTTPError as error:  # connection refused, DNS, TLS, timeouts
            raise DeliveryFailed(f"{type(error).__name__} from {where}") from None
        code = response.status_code
        if 200 <= code < 300:
            return
        retryable = code >= 500 or code in RETRYABLE_STATUS
        raise DeliveryFailed(f"HTTP {code} from {where}", retryable=retryable)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
