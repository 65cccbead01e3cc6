"""Producers' API keys: `xk_<key_id>_<secret>`, shown once when issued, kept only as a hash of
the secret beside its key id.

The key id is public (it names the key in `xinfang keys list` and is the row's primary key, so
an admission is one indexed lookup); the secret is 256 random bits from `secrets`. It is kept
as plain SHA-256, not a slow, salted hash as the query codes are: a slow hash protects guessable
secrets against a stolen table, and a 256-bit random secret cannot be guessed, with or without
its hash; every request is admitted with it, and SHA-256 costs it microseconds, not the tens
of milliseconds scrypt would add to each call. Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "xk_"
SECRET_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits
KEY_ID_BYTES = 6  # token_hex(6): 12 hexadecimal digits
_KEY = re.compile(r"xk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
MAX_KEY_CHARS = 64  # a longer header is not a key: nothing of it is hashed


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    secret: str

    @property
    def text(self) -> str:
        """What the producer is given, this once."""
        return f"{PREFIX}{self.key_id}_{self.secret}"


@dataclass(frozen=True)
class PresentedKey:
    key_id: str
    secret: str


def new_key() -> IssuedKey:
    return IssuedKey(secrets.token_hex(KEY_ID_BYTES), secrets.token_urlsafe(SECRET_BYTES))


def parsed(text: str | None) -> PresentedKey | None:
    """The key id and secret of a key as sent, or None when it is not of a key's form."""
    if not text or len(text) > MAX_KEY_CHARS:
        return None
    found = _KEY.fullmatch(text.strip())
    return PresentedKey(found.group(1), found.group(2)) if found else None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def matches(secret: str, kept_digest: str) -> bool:
    # compare_digest: how long the comparison takes says nothing of how much of it matched.
    return hmac.compare_digest(digest(secret), kept_digest)
