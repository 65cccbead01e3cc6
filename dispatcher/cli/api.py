"""`xinfang api`: the HTTP gateway, served by uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

import contextlib
import ipaddress
import signal
from collections.abc import Callable, Iterator
from typing import Any

import click

from dispatcher.cli import common
from dispatcher.cli.roles import PORT


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=PORT, default=8000, show_default=True, help="The port to serve on.")
def api(host: str, port: int) -> None:
    """Serve contract-v1 intake, the petitioner's endpoints, Open311 and the console (/console/)
    over HTTP (OpenAPI at /docs)."""
    settings = common.settings()
    common.configure_logging(settings)
    app = common.build_app(settings)
    try:
        serve(app, host, port)
    finally:
        app.close()


def serve(app: Any, host: str, port: int, on_ready: Callable[[], None] | None = None) -> None:
    """Serve the gateway over `app` on host:port until SIGTERM or SIGINT (Ctrl-C), then return;
    `on_ready` is called once it listens. Failed (exit 1) when it could not listen. Shared by
    `xinfang api` and `xinfang demo --serve`; the caller closes `app`."""
    import uvicorn

    from dispatcher.adapters.http import create_api

    # log_config=None: uvicorn logs through xinfang's logging; its access lines hold the
    # path (a case number at most), never the query code, which travels in a header.
    config = uvicorn.Config(create_api(app, _loopback(host)), host=host, port=port, log_config=None)
    server = _server_class()(config, on_ready)
    previous = {
        signum: signal.signal(signum, lambda *_: setattr(server, "should_exit", True))
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        server.run()
    except SystemExit:  # uvicorn's own exit when it cannot listen (it logged why)
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not server.started:  # the port was taken, say
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
        are finished, and the process exits 0 (uvicorn would raise the signal again). It
        calls `on_ready` once it listens, so that whatever names its address is printed
        only when the address answers."""

        def __init__(self, config: Any, on_ready: Callable[[], None] | None) -> None:
            super().__init__(config)
            self.on_ready = on_ready

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.on_ready is not None and not self.should_exit:
                self.on_ready()

    return Server
