"""Money (earnings per job and in total, credits to withdraw) and disputes (cost first, a statement, an
appeal)."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ..disputes import appeal
from ..errors import WorkerError
from ..money import add_statement, dispute, money, withdraw
from .app import back, checked_form, keys_of, render
from .jobs_routes import job_id_of


def routes(app: FastAPI) -> None:
    core = app.state.core

    @app.get("/money")
    def money_page(request: Request) -> Response:
        keys = keys_of(request)
        return render(
            request, "money.html", money=money(core, keys.address), done=request.query_params.get("done")
        )

    @app.post("/money/withdraw")
    async def withdraw_credit(request: Request) -> Response:
        keys = keys_of(request)
        form = await checked_form(request)
        try:
            withdraw(core, keys, form.get("to") or None)
        except WorkerError as error:
            return render(request, "money.html", 409, money=money(core, keys.address), error=error)
        return back("/money?done=withdrawn")

    @app.post("/work/{raw}/dispute")
    async def dispute_job(raw: str, request: Request) -> Response:
        job_id, keys = job_id_of(raw), keys_of(request)
        form = await checked_form(request)
        dispute(core, keys, job_id, form.get("statement"))
        return back(f"/work/{job_id}?disputed=1")

    @app.post("/work/{raw}/statement")
    async def statement(raw: str, request: Request) -> Response:
        job_id, keys = job_id_of(raw), keys_of(request)
        form = await checked_form(request)
        add_statement(core, keys, job_id, form.get("statement"))
        return back(f"/work/{job_id}?statement=1")

    @app.post("/work/{raw}/appeal")
    async def appeal_ruling(raw: str, request: Request) -> Response:
        job_id, keys = job_id_of(raw), keys_of(request)
        await checked_form(request)
        appeal(core, keys, job_id)
        return back(f"/work/{job_id}?appealed=1")
