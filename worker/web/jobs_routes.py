"""Jobs (offers and open jobs I may take, live), one-click acceptance, and the work page: the ticket as a
chat transcript, the summary, submission, and progress until paid."""

import re
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response

from protocol_core.enums import JobStatus, Reason
from protocol_core.languages import LANGUAGES

from ..disputes import panel
from ..errors import DeskUnavailable, WorkerError
from ..money import dispute_cost, dispute_view
from ..profile import names, read_profile
from ..work import STEPS, accept, available_jobs, current, open_job_context, progress, submit
from .app import back, checked_form, keys_of, render

SHOWN = 30  # cards on the jobs page: offers first, then the best paid; a person scans no more
JOB_ID = re.compile(r"0x[0-9a-f]{64}")
REDACTED = re.compile(r"(\[(?:EMAIL|PHONE|CARD|IBAN|ID|ADDRESS)\])")  # what the desk's redaction left


def job_id_of(raw: str) -> str:
    """A job id from a URL; 404 for anything else."""
    if not JOB_ID.fullmatch(raw.lower()):
        raise HTTPException(404, "no such job")
    return raw.lower()


def routes(app: FastAPI) -> None:
    core = app.state.core

    def jobs_context(request: Request) -> dict[str, Any]:
        keys = keys_of(request)
        profile = read_profile(core, keys.address, keys.public_x25519)
        desk_error: WorkerError | None = None
        try:
            offers = core.desk.offers(keys)
        except (DeskUnavailable, WorkerError) as error:
            offers, desk_error = [], error
        now = core.chain.now()
        found = available_jobs(core, profile, now, offers)
        mine = [
            j
            for j in core.index.mine(keys.address)
            if j.status < JobStatus.PAID or j.status == JobStatus.DISPUTED
        ]
        return {
            "profile": profile,
            "offers": found[:SHOWN],
            "more": max(0, len(found) - SHOWN),
            "mine": mine,
            "desk_error": desk_error,
            "language_of": lambda i: LANGUAGES[i] if i < len(LANGUAGES) else "?",
            "needs": lambda mask: names(mask, core.settings.expertise),
        }

    @app.get("/jobs")
    def jobs_page(request: Request) -> Response:
        return render(request, "jobs.html", **jobs_context(request))

    @app.get("/live/jobs")
    def jobs_live(request: Request) -> Response:
        return render(request, "_jobs_live.html", **jobs_context(request))

    @app.post("/jobs/{raw}/accept")
    async def accept_job(raw: str, request: Request) -> Response:
        job_id, keys = job_id_of(raw), keys_of(request)
        await checked_form(request)
        accept(core, keys, job_id)
        return back(f"/work/{job_id}?accepted=1")

    def work_context(request: Request, job_id: str) -> dict[str, Any]:
        keys = keys_of(request)
        job = current(core, job_id)
        if job.status == JobStatus.OPEN and request.query_params.get("accepted"):
            return {
                "job": job,
                "accepting": True,
                "work": {},
                "step": 0,
                "steps": STEPS,
                "outcome": "accepting",
            }
        if (job.worker or "").lower() != keys.address.lower():
            raise HTTPException(404, "this is not one of your jobs")
        handoff: dict[str, Any] = {}
        bundle, context_error = None, None
        try:
            bundle, handoff = open_job_context(core, keys, job_id)
        except WorkerError as error:
            context_error = error
        work = core.index.work(job_id)
        step, outcome = progress(job, bool(work.get("handed_in_at")))
        reason = Reason(job.reason).name.lower() if job.reason is not None and job.approved is False else None
        cost = dispute_cost(core, job) if outcome == "rejected" else None
        disputed = dispute_view(core, job) if job.status == JobStatus.DISPUTED or job.dispute_id else None
        return {
            "job": job,
            "bundle": bundle,
            "handoff": handoff,
            "context_error": context_error,
            "work": work,
            "step": step,
            "steps": STEPS,
            "outcome": outcome,
            "reason": reason,
            "cost": cost,
            "dispute": disputed,
            "panel": panel(core, job) if disputed else None,
            "split": lambda text: REDACTED.split(text),
        }

    @app.get("/work/{raw}")
    def work_page(raw: str, request: Request) -> Response:
        return render(request, "work.html", **work_context(request, job_id_of(raw)))

    @app.get("/live/work/{raw}")
    def work_live(raw: str, request: Request) -> Response:
        context = work_context(request, job_id_of(raw))
        response = render(request, "_progress.html", **context)
        if request.query_params.get("accepted") and not context.get("accepting"):
            response.headers["HX-Redirect"] = f"/work/{context['job'].job_id}"  # accepted: show the ticket
        return response

    @app.post("/work/{raw}/submit")
    async def submit_work(raw: str, request: Request) -> Response:
        job_id, keys = job_id_of(raw), keys_of(request)
        form = await checked_form(request)
        if form.get("action") == "draft":
            core.index.save_work(job_id, summary=form.get("summary"))
            return back(f"/work/{job_id}?saved=1")
        try:
            submit(core, keys, job_id, form.get("summary"))
        except WorkerError as error:
            return render(request, "work.html", 409, error=error, **work_context(request, job_id))
        return back(f"/work/{job_id}?submitted=1")
