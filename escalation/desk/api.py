"""The desk's HTTP API (FastAPI, OpenAPI at /docs and /openapi.json): every call but the helpdesk
webhook needs the company's API key; the webhook is checked by its HMAC instead."""

import hmac
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from escalation.models import Decision, Ticket
from protocol_core.content import EXPIRES_HEADER, READER_HEADER
from protocol_core.content import SIGNATURE_HEADER as PROOF_HEADER
from runtime.errors import ChainUnavailable

from .confirm import SIGNATURE_HEADER as HELPDESK_SIGNATURE
from .confirm import verify_webhook
from .errors import (
    BadProof,
    BadWebhook,
    DeskError,
    InsufficientFunds,
    NotAllowedNow,
    NotYourJob,
    PolicyRefusal,
    StoreUnavailable,
    UnknownJob,
    WouldRevert,
)
from .relay import AcceptanceReceipt, AcceptanceRequest
from .relay_limit import RateLimited
from .requests import API_KEY_HEADER, Budget, EscalationRequest, JobView, Withdrawal
from .statements import StoredStatement
from .wiring import DeskService
from .worker_door import StoredEvidence, WorkerHandoff, proven_worker
from .worker_relay import worker_router

STATUS = {UnknownJob: 404, PolicyRefusal: 422, InsufficientFunds: 402, NotAllowedNow: 409, WouldRevert: 409,
          BadWebhook: 401, BadProof: 401, NotYourJob: 403, StoreUnavailable: 503}  # fmt: skip
MAX_EVIDENCE = 64 * 1024  # bytes of an evidence bundle the worker door takes (a bundle is about 1 KB)
MAX_STATEMENT_BODY = 32 * 1024  # bytes of a statement request (4,000 characters fit, escaped)


class Statement(BaseModel):
    """A party's words for the dispute's panel."""

    text: str


class Dispute(BaseModel):
    """The customer's word against the verdict."""

    reason: str
    evidence_uri: str | None = None


def desk_app(service: DeskService, api_key: str, helpdesk_secret: str) -> FastAPI:
    """The API over `service`."""
    if not api_key:
        raise ValueError("the desk's API needs an API key")
    app = FastAPI(title="Escalation desk", version="1")
    desk = service.desk

    def authorised(key: str = Header(default="", alias=API_KEY_HEADER)) -> None:
        if not hmac.compare_digest(key, api_key):
            raise HTTPException(401, f"wrong or missing {API_KEY_HEADER}")

    guard = [Depends(authorised)]

    def run(action: Callable[[], Any], sends: bool = True) -> Any:
        try:
            if not sends:  # reads of the database never wait for a pass
                return action()
            with service.lock:  # one sender: commands and the follow loop's passes take turns
                return action()
        except ChainUnavailable as error:
            raise HTTPException(503, str(error)) from error
        except RateLimited as error:
            raise HTTPException(429, str(error), {"Retry-After": str(error.retry_after)}) from error
        except DeskError as error:
            raise HTTPException(STATUS.get(type(error), 400), str(error)) from error

    @app.post("/v1/escalations", response_model=JobView, status_code=201, dependencies=guard)
    def escalate(request: EscalationRequest) -> JobView:
        """Escalates a ticket: posted now, or waiting for approval above the threshold."""
        return run(lambda: desk.escalate(request))  # type: ignore[no-any-return]

    @app.get("/v1/jobs", response_model=list[JobView], dependencies=guard)
    def jobs(limit: int = 100) -> list[JobView]:
        """The newest escalations."""
        return run(lambda: desk.list(limit), sends=False)  # type: ignore[no-any-return]

    @app.get("/v1/jobs/{ref}", response_model=JobView, dependencies=guard)
    def status(ref: str) -> JobView:
        """One escalation by desk id, job id or ticket ref."""
        return run(lambda: desk.view(ref), sends=False)  # type: ignore[no-any-return]

    @app.post("/v1/jobs/{ref}/approve", response_model=JobView, dependencies=guard)
    def approve(ref: str) -> JobView:
        """A person approves an escalation over the threshold."""
        return run(lambda: desk.approve(ref))  # type: ignore[no-any-return]

    @app.post("/v1/jobs/{ref}/cancel", response_model=JobView, dependencies=guard)
    def cancel(ref: str) -> JobView:
        """Cancels an escalation not yet accepted."""
        return run(lambda: desk.cancel(ref))  # type: ignore[no-any-return]

    @app.post("/v1/jobs/{ref}/dispute", response_model=JobView, dependencies=guard)
    def dispute(ref: str, body: Dispute) -> JobView:
        """Disputes the verdict on the customer's word."""
        return run(lambda: desk.dispute(ref, body.reason, body.evidence_uri))  # type: ignore[no-any-return]

    @app.post("/v1/jobs/{job_id}/accept", response_model=AcceptanceReceipt)
    def accept(job_id: str, body: AcceptanceRequest) -> AcceptanceReceipt:
        """A worker's signed acceptance, relayed at the desk's cost. No API key: the signature can
        only make its signer take this job, and the worker is told nothing but the job's status."""
        return run(lambda: service.relayer.relay(job_id, body))  # type: ignore[no-any-return]

    @app.get("/v1/jobs/{job_id}/handoff", response_model=WorkerHandoff)
    def handoff(
        job_id: str,
        reader: str | None = Header(default=None, alias=READER_HEADER),
        expires: str | None = Header(default=None, alias=EXPIRES_HEADER),
        signature: str | None = Header(default=None, alias=PROOF_HEADER),
    ) -> WorkerHandoff:
        """For the job's worker only, by a signed request (no API key): the terms, where its sealed
        context is, and the customer's confirmation once the helpdesk gave it."""
        return run(  # type: ignore[no-any-return]
            lambda: service.workers.handoff(job_id, proven_worker(job_id, reader, expires, signature)),
            sends=False,
        )

    @app.post("/v1/jobs/{job_id}/evidence", response_model=StoredEvidence, status_code=201)
    async def evidence(request: Request, job_id: str) -> StoredEvidence:
        """The job's worker stores its evidence bundle (canonical JSON) in the desk's content store."""
        body = await request.body()
        if len(body) > MAX_EVIDENCE:
            raise HTTPException(413, f"{len(body)} bytes is over the limit of {MAX_EVIDENCE} for a bundle")
        proof = [request.headers.get(name) for name in (READER_HEADER, EXPIRES_HEADER, PROOF_HEADER)]
        return await run_in_threadpool(  # type: ignore[no-any-return]
            run, lambda: service.workers.store_evidence(job_id, proven_worker(job_id, *proof), body), False
        )

    @app.post("/v1/jobs/{job_id}/statements", response_model=StoredStatement, status_code=201)
    async def statement(request: Request, job_id: str) -> StoredStatement:
        """The disputed job's worker (or agent) adds a statement for the panel, signed like the worker's
        other requests; the answer is the URI to name on chain (`submitDisputeEvidence`)."""
        body = await request.body()
        if len(body) > MAX_STATEMENT_BODY:
            raise HTTPException(413, f"{len(body)} bytes is over the limit of {MAX_STATEMENT_BODY} bytes")
        try:
            text = Statement.model_validate_json(body).text
        except ValidationError as error:
            raise HTTPException(422, f'send {{"text": "..."}} as JSON: {error.errors()[0]["msg"]}') from error
        proof = [request.headers.get(name) for name in (READER_HEADER, EXPIRES_HEADER, PROOF_HEADER)]
        return await run_in_threadpool(  # type: ignore[no-any-return]
            run, lambda: service.workers.store_statement(job_id, proven_worker(job_id, *proof), text), False
        )

    @app.get("/v1/budget", response_model=Budget, dependencies=guard)
    def budget() -> Budget:
        """Today's committed spend and the policy."""
        return desk.budget()

    @app.post("/v1/withdraw", response_model=Withdrawal, dependencies=guard)
    def withdraw() -> Withdrawal:
        """Withdraws the agent's credited refunds to the agent."""
        return Withdrawal(amount=run(desk.withdraw))

    @app.post("/v1/decide", response_model=Decision, dependencies=guard)
    def decide(ticket: Ticket) -> Decision:
        """Should the agent escalate this ticket? The decision with its reasons; nothing is posted."""
        return service.decider.decide(ticket)

    @app.post("/v1/helpdesk/confirm")
    async def confirm(request: Request) -> dict[str, str | int]:
        """The helpdesk's webhook: the customer confirmed (or not); signed with the shared secret."""
        body = await request.body()
        try:
            event = verify_webhook(helpdesk_secret, body, request.headers.get(HELPDESK_SIGNATURE))
        except BadWebhook as error:
            raise HTTPException(401, str(error)) from error
        return run(lambda: service.confirmations.confirm(event))  # type: ignore[no-any-return]

    app.include_router(worker_router(service, run))  # the worker's app reads and relays here
    return app
