"""`xinfang health`: ask a running process's probe, for compose, systemd or a person."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

import click

from dispatcher.cli import common


@click.command()
@click.option(
    "--live",
    is_flag=True,
    help="Ask only whether the process lives (/healthz), not whether it is ready (/readyz).",
)
@click.option(
    "--url", help="The probe's base URL (default: http://127.0.0.1:$XINFANG_METRICS_PORT)."
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=5.0,
    show_default=True,
    help="Seconds to wait for the answer.",
)
def health(live: bool, url: str | None, timeout: float) -> None:
    """Ask a running xinfang process whether it is ready (exit 0) or not (exit 1)."""
    if url is None:
        port = common.settings().metrics_port
        if not port:
            raise common.StartupError(
                "set XINFANG_METRICS_PORT (the port the process serves probes on) or give --url"
            )
        url = f"http://127.0.0.1:{port}"
    ok, summary = probe(url.rstrip("/") + ("/healthz" if live else "/readyz"), timeout)
    click.echo(summary)
    sys.exit(0 if ok else 1)


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
