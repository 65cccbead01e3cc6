"""`xinfang api`: the HTTP gateway, served by uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import contextlib
import ipaddress
import signal
from collections.abc import Iterator
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.roles import PORT


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=PORT, default=8000, show_default=True, help="The port to serve on.")
def api(host: str, port: int) -> None:
    """Serve contract-v1 intake and the petitioner's endpoints over HTTP (OpenAPI at /docs)."""
    import uvicorn

    from dispatcher.adapters.http import create_api

    settings = common.settings()
    common.configure_logging(settings)
    app = common.build_app(settings)
    try:
        # log_config=None: uvicorn logs through xinfang's logging; its access lines hold the
        # path (a case number at most), never the query code, which travels in a header.
        server = _server_class()(
            uvicorn.Config(create_api(app, _loopback(host)), host=host, port=port, log_config=None)
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
        server.run()
    finally:
        app.close()
    if not server.started:  # the port was taken, say: uvicorn logged why
        raise common.Failed(f"could not serve on {host}:{port}")


def _loopback(host: str) -> bool:
    """Whether only this machine can reach the address (the console's cookies may then go
    over plain http: nothing between the browser and the gateway can read them)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but a SIGTERM ends it as it ends every role: requests in flight
        are finished, and the process exits 0 (uvicorn would raise the signal again)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return Server
