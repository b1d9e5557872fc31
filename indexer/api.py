"""The read model over HTTP (FastAPI, read-only): workers, jobs, operators, arbitrators, disputes."""

from typing import Any

from fastapi import FastAPI, HTTPException, Query

from .queries import ReadModel

MAX_PAGE = 5_000  # rows per page


def read_api(model: ReadModel) -> FastAPI:
    """The app: GET only, JSON, amounts as integers."""
    app = FastAPI(title="escalation protocol indexer", docs_url=None, redoc_url=None)

    @app.get("/v1/status")
    def status() -> dict[str, Any]:
        return {"block": model.block(), "rows": model.counts()}

    @app.get("/v1/workers")
    def workers(
        language: int | None = None, available: bool | None = None,
        limit: int = Query(1_000, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0),
    ) -> list[dict[str, Any]]:  # fmt: skip
        return [
            vars(w) for w in model.workers(language=language, available=available, limit=limit, offset=offset)
        ]

    @app.get("/v1/workers/{address}")
    def worker(address: str) -> dict[str, Any]:
        found = model.worker(address)
        if found is None:
            raise HTTPException(404, f"no registered worker {address}")
        return vars(found)

    @app.get("/v1/jobs")
    def jobs(
        status: int | None = None, agent: str | None = None, worker: str | None = None,
        limit: int = Query(1_000, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0),
    ) -> list[dict[str, Any]]:  # fmt: skip
        return model.jobs(status=status, agent=agent, worker=worker, limit=limit, offset=offset)

    @app.get("/v1/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        found = model.job(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id} posted since the indexer's first block")
        return found

    @app.get("/v1/operators")
    def operators() -> list[dict[str, Any]]:
        return model.operators()

    @app.get("/v1/arbitrators")
    def arbitrators() -> list[dict[str, Any]]:
        return model.arbitrators()

    @app.get("/v1/disputes/{dispute_id}")
    def dispute(dispute_id: int, now: int | None = None) -> dict[str, Any]:
        found = model.dispute(dispute_id, now)
        if found is None:
            raise HTTPException(404, f"no dispute {dispute_id}")
        return found

    return app
