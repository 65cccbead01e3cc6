"""A live HTTP server for a real browser: an ASGI app on uvicorn, in a background thread of
the test process, on a free port of 127.0.0.1.

FastAPI's TestClient never opens a socket; a browser needs one. The server runs in this
process so that a test can arrange data through the same App the pages read from.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp
from support import free_port, wait_for

STARTUP_TIMEOUT = 30.0  # imports are done: binding and the app's lifespan take well under 1 s
SHUTDOWN_TIMEOUT = 15.0
BIND_ATTEMPTS = 3  # free_port's port may be taken by someone else before uvicorn binds it


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL (http://127.0.0.1:PORT)."""
    for _attempt in range(BIND_ATTEMPTS):
        port = free_port()
        server, thread = _start(app, port)
        if server.started:
            break
        thread.join(SHUTDOWN_TIMEOUT)
    else:
        raise AssertionError(
            f"uvicorn did not start in {BIND_ATTEMPTS} attempts (its log above says why)"
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(server, thread)


def _start(app: ASGIApp, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    # log_config=None: uvicorn logs through the root logger, which pytest captures.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="auto"
    )
    server = uvicorn.Server(config)
    # uvicorn installs no signal handlers outside the main thread: Ctrl-C stays pytest's.
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    # Started, or failed to bind (uvicorn then ends its thread): a condition, not a delay.
    wait_for(
        lambda: server.started or not thread.is_alive(),
        f"uvicorn to listen on 127.0.0.1:{port}",
        timeout=STARTUP_TIMEOUT,
    )
    return server, thread


def _stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    # should_exit: stop accepting, finish the requests in flight, close idle keep-alive
    # connections (a browser holds some), run the lifespan's shutdown.
    server.should_exit = True
    thread.join(SHUTDOWN_TIMEOUT)
    if thread.is_alive():  # a request that never ends: drop it rather than hang the suite
        server.force_exit = True
        thread.join(SHUTDOWN_TIMEOUT)
    if thread.is_alive():
        raise AssertionError(f"uvicorn ({thread.name}) did not stop")
