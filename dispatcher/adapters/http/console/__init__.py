"""The console for departments and supervisors (网上办, 网上督), and the petitioner's pages
(网上查, 网上评), served by `xinfang api`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from dispatcher.adapters.http.console.pages import HERE, PREFIX, ConsoleServices, install_console
from dispatcher.adapters.http.throttle import Throttle

SESSION_COOKIE = "xinfang_session"
SESSION_HOURS = 8  # a working day; the officer logs in again the next


def mount_console(
    api: FastAPI,
    services: ConsoleServices,
    throttle: Throttle,
    session_secret: str,
    secure_cookies: bool,
) -> None:
    """The console's pages, static files and signed session cookie on the gateway's app."""
    install_console(api, services, throttle)
    api.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    api.add_middleware(
        SessionMiddleware,
        secret_key=session_secret,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        path=PREFIX,
        same_site="lax",
        https_only=secure_cookies,
    )


__all__ = ["SESSION_COOKIE", "ConsoleServices", "mount_console"]
