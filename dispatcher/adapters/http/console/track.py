"""The petitioner's pages (网上查, 网上评): the case number and the query code (查询码) open the
case's progress, and its reply may be evaluated or a review asked for.

No log-in and nothing kept: the code is checked by the same PetitionerDesk as the API's, with
the same limit of wrong codes, and travels only in the page's forms, never in the session. The
answers are never cached (a shared computer's back button shows no one's case).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from dispatcher.adapters.http.console import i18n
from dispatcher.adapters.http.throttle import Throttle, Wait, client_of
from dispatcher.domain.state import Rating
from dispatcher.services.lifecycle import Outcome, Refused
from dispatcher.services.petitioner import Petition, PetitionerDesk, Progress

if TYPE_CHECKING:
    from dispatcher.adapters.http.console.pages import Pages

# What a page does with the admitted case, from its form, before showing it.
Act = Callable[[Petition, dict[str, str]], Outcome]

PAGE = "track.html"


class Track:
    def __init__(self, pages: Pages, desk: PetitionerDesk, throttle: Throttle) -> None:
        self.pages, self.desk, self.throttle = pages, desk, throttle

    def page(self, request: Request, status: int = 200, **context: Any) -> HTMLResponse:
        response = self.pages.render(request, PAGE, None, status, **context)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def answer(self, request: Request, act: Act | None = None) -> HTMLResponse:
        """The case's progress after `act(petition, form)` (nothing done if None)."""
        form = await self.pages.form(request)
        if form is None:
            return self.page(request, 403, error="csrf")
        case_id, code = form.get("case", "").strip(), form.get("code", "").strip()
        done = await run_in_threadpool(
            self.throttle.guarded,
            case_id,
            client_of(request),
            lambda: self._try(case_id, code, form, act),
        )
        if isinstance(done, Wait):
            response = self.page(request, 429, error="throttled", case_id=case_id)
            response.headers["Retry-After"] = str(done.seconds)
            return response
        if done is None:
            return self.page(request, 404, error="not_found", case_id=case_id)
        progress, outcome = done
        return self.page(
            request, progress=progress, code=code, outcome=_outcome(outcome), case_id=case_id
        )

    def _try(
        self, case_id: str, code: str, form: dict[str, str], act: Act | None
    ) -> tuple[Progress, Outcome | None] | None:
        """(progress, the act's outcome), or None when the code is not the case's."""
        petition = self.desk.admit(case_id, code)
        if petition is None:
            return None
        outcome = act(petition, form) if act else None
        return petition.progress(), outcome

    @staticmethod
    def evaluate(petition: Petition, form: dict[str, str]) -> Outcome:
        rating = form.get("rating", "")
        if rating not in i18n.RATINGS:
            return Refused(
                petition.case_id, "choose satisfied, basically satisfied or dissatisfied"
            )
        return petition.evaluate(Rating(rating))

    @staticmethod
    def request_review(petition: Petition, form: dict[str, str]) -> Outcome:
        return petition.request_review(form.get("reason", "").strip() or None)


def _outcome(outcome: Outcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    if isinstance(outcome, Refused):
        return {"ok": False, "text": outcome.reason}
    return {"ok": True, "stage": outcome.stage.value, "review_case_id": outcome.linked_case_id}


def track_routes(router: APIRouter, track: Track) -> None:
    @router.get("/track")
    def track_page(request: Request, case: str = "") -> HTMLResponse:
        return track.page(request, case_id=case.strip())

    @router.post("/track")
    async def show_progress(request: Request) -> HTMLResponse:
        return await track.answer(request)

    @router.post("/track/evaluation")
    async def evaluate(request: Request) -> HTMLResponse:
        return await track.answer(request, track.evaluate)

    @router.post("/track/review-request")
    async def request_review(request: Request) -> HTMLResponse:
        return await track.answer(request, track.request_review)
