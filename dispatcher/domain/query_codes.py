"""The petitioner's query code (查询码): shown once when a case is opened, kept only as a salted,
deliberately slow hash, so that a copy of the database does not give anyone the codes.

Standard library only: `secrets` draws the code, scrypt hashes it, `hmac.compare_digest`
compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

# No 0/O, 1/I/L: a code read over the phone or copied from a slip of paper survives.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8, about 2**40 codes
SALT_BYTES = 16
# scrypt's cost: about 16 MiB and some tens of milliseconds for each check.
_N, _R, _P = 2**14, 8, 1
_MAX_MEMORY = 64 * 1024 * 1024


@dataclass(frozen=True)
class StoredCode:
    salt: bytes
    digest: bytes


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalised(code: str) -> str:
    """As a petitioner may type it: lower case, with spaces or hyphens between groups."""
    return code.replace("-", "").replace(" ", "").upper()


def stored(code: str) -> StoredCode:
    salt = secrets.token_bytes(SALT_BYTES)
    return StoredCode(salt, _hash(code, salt))


def matches(code: str | None, kept: StoredCode | None) -> bool:
    """Whether `code` is the one `kept` was made from. The hash is computed even when there is
    nothing to compare with, so that an unknown case answers as slowly as a wrong code."""
    candidate = normalised(code or "")[: LENGTH * 2]  # bounded work for any header
    salt = kept.salt if kept is not None else bytes(SALT_BYTES)
    digest = _hash(candidate, salt)
    return kept is not None and bool(code) and hmac.compare_digest(digest, kept.digest)


def _hash(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        code.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEMORY, dklen=32
    )
