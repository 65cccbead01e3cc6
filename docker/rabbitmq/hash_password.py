"""Print a RabbitMQ password hash for definitions.json (scheme rabbit_password_hashing_sha256).

    python docker/rabbitmq/hash_password.py 'a-new-password'

The hash is base64(salt + sha256(salt + password)) with a random 4-byte salt, the form RabbitMQ
itself stores and exports. Paste it as the user's "password_hash" and keep
"hashing_algorithm": "rabbit_password_hashing_sha256".
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys


def rabbit_sha256_hash(password: str, salt: bytes | None = None) -> str:
    salt = os.urandom(4) if salt is None else salt
    if len(salt) != 4:
        raise ValueError("RabbitMQ uses a 4-byte salt")
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hash_password.py PASSWORD")
    print(rabbit_sha256_hash(sys.argv[1]))
