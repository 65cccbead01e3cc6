"""The console's pages, server-rendered with Jinja2; htmx swaps a part of a page where that
is all that changes (the work list's filter, the case after an action), and every page works
without it.

Sessions are cookies signed by Starlette's SessionMiddleware (itsdangerous), HttpOnly,
SameSite=Lax, Secure unless served on loopback only. Every form carries the session's CSRF
token (the synchronizer-token pattern): a POST without it is refused before anything is done.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dispatcher.adapters.http.console import i18n, view
from dispatcher.adapters.http.console.track import Track, track_routes
from dispatcher.adapters.http.throttle import Throttle
from dispatcher.domain.access import Officer, Role
from dispatcher.domain.clocks import SHANGHAI
from dispatcher.domain.decisions import Action
from dispatcher.domain.errors import CaseNotFound, XinfangError
from dispatcher.services.console import ConsoleDesk, Forbidden
from dispatcher.services.lifecycle import Refused
from dispatcher.services.petitioner import PetitionerDesk

PREFIX = "/console"
HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STAGE_FILTERS = ("assigned", "accepted", "objected", "replied", "triage")
KPI_DAYS = (7, 30, 90, 365)


class ConsoleServices(Protocol):
    @property
    def console(self) -> ConsoleDesk: ...

    @property
    def petitioners(self) -> PetitionerDesk: ...

    def region_name(self, code: str) -> str | None: ...


class LoginRequired(XinfangError):
    pass


def _local(moment: datetime | None) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else "—"


class Pages:
    def __init__(self, services: ConsoleServices) -> None:
        self.desk = services.console
        self.services = services

    # ---- sessions -----------------------------------------------------------------------------
    def officer(self, request: Request) -> Officer:
        username = request.session.get("user")
        officer = self.desk.officer(username) if isinstance(username, str) else None
        if officer is None:
            request.session.pop("user", None)
            raise LoginRequired
        return officer

    @staticmethod
    def csrf(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = request.session["csrf"] = secrets.token_urlsafe(32)
        return token

    @staticmethod
    async def form(request: Request) -> dict[str, str] | None:
        """The form of a POST, or None when it does not carry the session's CSRF token."""
        form = await request.form()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        expected = request.session.get("csrf")
        given = fields.pop("csrf", "")
        if not isinstance(expected, str) or not secrets.compare_digest(given, expected):
            return None
        return fields

    def language(self, request: Request, officer: Officer | None) -> str:
        chosen = request.session.get("lang")
        if isinstance(chosen, str) and chosen in i18n.LANGUAGES:
            return chosen
        return officer.locale if officer else i18n.DEFAULT

    # ---- rendering ----------------------------------------------------------------------------
    def render(
        self,
        request: Request,
        name: str,
        officer: Officer | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        tr = i18n.Translations(self.language(request, officer))
        context |= {
            "_": tr.gettext,
            "label": tr.label,
            "labels": i18n,
            "lang": tr.language,
            "languages": i18n.LANGUAGES,
            "officer": officer,
            "csrf": self.csrf(request),
            "flash": request.session.pop("flash", None),
            "local": _local,
            "region_name": self.services.region_name,
            "prefix": PREFIX,
        }
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    def forbidden(self, request: Request, officer: Officer) -> HTMLResponse:
        return self.render(request, "forbidden.html", officer, status=403)

    def not_found(self, request: Request, officer: Officer) -> HTMLResponse:
        return self.render(request, "not_found.html", officer, status=404)


def install_console(api: FastAPI, services: ConsoleServices, throttle: Throttle) -> None:
    """The console's routes on the gateway's app (the session middleware is the caller's), and
    the petitioner's pages, whose wrong codes count in `throttle` with the API's."""
    pages = Pages(services)
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    _login_routes(router, pages)
    _work_routes(router, pages)
    _case_routes(router, pages)
    track_routes(router, Track(pages, services.petitioners, throttle))
    api.include_router(router)

    @api.exception_handler(LoginRequired)
    async def to_login(request: Request, _error: LoginRequired) -> Response:
        target = quote(request.url.path, safe="/")
        if request.headers.get("HX-Request"):  # htmx follows HX-Redirect, not a 303
            return Response(status_code=401, headers={"HX-Redirect": f"{PREFIX}/login"})
        return RedirectResponse(f"{PREFIX}/login?next={target}", status_code=303)


def _login_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/login")
    def login_page(request: Request, next: str = "") -> HTMLResponse:
        return pages.render(request, "login.html", None, next=_safe_next(next))

    @router.post("/login")
    async def log_in(request: Request) -> Response:
        form = await pages.form(request)
        if form is None:
            return pages.render(request, "login.html", None, status=403, error="csrf")
        username, password = form.get("username", ""), form.get("password", "")
        officer = await run_in_threadpool(pages.desk.log_in, username, password)
        if officer is None:
            return pages.render(request, "login.html", None, status=401, error="login")
        # A new session, so that a session fixed before the log-in is worth nothing after it.
        language = request.session.get("lang")
        request.session.clear()
        request.session.update(user=officer.username, csrf=secrets.token_urlsafe(32))
        if language:
            request.session["lang"] = language
        return RedirectResponse(_safe_next(form.get("next", "")) or PREFIX + "/", 303)

    @router.post("/logout")
    async def log_out(request: Request) -> Response:
        if await pages.form(request) is not None:
            request.session.clear()
        return RedirectResponse(f"{PREFIX}/login", status_code=303)

    @router.get("/lang/{language}")
    def choose_language(request: Request, language: str, next: str = "") -> Response:
        if language in i18n.LANGUAGES:
            request.session["lang"] = language
        return RedirectResponse(_safe_next(next) or PREFIX + "/", status_code=303)


def _safe_next(target: str) -> str:
    """Only a path of the console: never a redirect to another site."""
    return target if target.startswith(PREFIX + "/") and not target.startswith("//") else ""


def _work_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/")
    def home(request: Request) -> Response:
        officer = pages.officer(request)
        target = "overdue" if officer.role is Role.BUREAU else "cases"
        return RedirectResponse(f"{PREFIX}/{target}", status_code=303)

    @router.get("/cases")
    def work_list(request: Request, stage: str = "", overdue: bool = False) -> HTMLResponse:
        officer = pages.officer(request)
        stages = [stage] if stage in i18n.STAGES else []
        found = pages.desk.work_list(officer, stages, overdue)
        partial = bool(request.headers.get("HX-Request"))
        return pages.render(
            request,
            "_work_rows.html" if partial else "work_list.html",
            officer,
            found=found,
            stage=stages[0] if stages else "",
            overdue=overdue,
            stage_filters=STAGE_FILTERS,
        )

    @router.get("/overdue")
    def overdue_board(request: Request, level: str = "") -> HTMLResponse:
        officer = pages.officer(request)
        chosen = level if level in i18n.LEVELS else None
        try:
            board = pages.desk.overdue_board(officer, chosen)
        except Forbidden:
            return pages.forbidden(request, officer)
        return pages.render(
            request, "overdue.html", officer, board=view.board(board), level=chosen or ""
        )

    @router.get("/kpis")
    def kpis(request: Request, days: int = 30) -> HTMLResponse:
        officer = pages.officer(request)
        days = days if days in KPI_DAYS else 30
        rows, as_of = pages.desk.kpis(officer, days)
        return pages.render(
            request, "kpis.html", officer, rows=rows, as_of=as_of, days=days, choices=KPI_DAYS
        )


def _case_routes(router: APIRouter, pages: Pages) -> None:
    @router.get("/cases/{case_id}")
    def case_page(request: Request, case_id: str) -> HTMLResponse:
        officer = pages.officer(request)
        try:
            shown = pages.desk.case(officer, case_id)
        except CaseNotFound:
            return pages.not_found(request, officer)
        except Forbidden:
            return pages.forbidden(request, officer)
        return pages.render(request, "case.html", officer, case=view.case(shown))

    @router.post("/cases/{case_id}/actions/{action}")
    async def act(request: Request, case_id: str, action: str) -> Response:
        officer = await run_in_threadpool(pages.officer, request)
        form = await pages.form(request)
        if form is None:
            return pages.forbidden(request, officer)
        chosen = view.ACTIONS.get(action)
        if chosen is None:
            return pages.not_found(request, officer)
        try:
            outcome = await run_in_threadpool(
                pages.desk.act, officer, case_id, chosen, view.action_data(chosen, form)
            )
            request.session["flash"] = _flash(outcome, chosen)
            if not request.headers.get("HX-Request"):
                return RedirectResponse(f"{PREFIX}/cases/{quote(case_id)}", status_code=303)
            shown = await run_in_threadpool(pages.desk.case, officer, case_id)
        except CaseNotFound:
            return pages.not_found(request, officer)
        except Forbidden:
            return pages.forbidden(request, officer)
        except ValueError as error:  # a form field of the wrong form (days not a number)
            request.session["flash"] = {"ok": False, "text": str(error)}
            return RedirectResponse(f"{PREFIX}/cases/{quote(case_id)}", status_code=303)
        return pages.render(request, "_case_body.html", officer, case=view.case(shown))


def _flash(outcome: Any, action: Action) -> dict[str, Any]:
    if isinstance(outcome, Refused):
        return {"ok": False, "text": outcome.reason}
    return {"ok": True, "action": action.value, "stage": outcome.stage.value}
