"""`xinfang health`: ask a running process's probe, for compose, systemd or a person."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def probe(url: str, timeout: float) -> tuple[bool, str]:
    """(ok, one line saying why) from a /healthz or /readyz endpoint."""
    if not url.startswith(("http://", "https://")):
        return False, f"{url}: not an http(s) URL"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return True, _summary(url, response.read())
    except urllib.error.HTTPError as error:  # 503: the process answered "not ready"
        return False, _summary(url, error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"{url}: no answer ({reason})"


def _summary(url: str, body: bytes) -> str:
    try:
        report = json.loads(body)
        checks = ", ".join(f"{name} {state}" for name, state in report["checks"].items())
        return f"{report['status']}: {checks}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{url}: unreadable answer"
