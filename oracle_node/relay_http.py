"""The node's HTTP door for the relayed flow: workers hand in evidence, peers send signatures.

POST /v1/evidence    an IntakeRequest; 202 with a receipt, or 4xx with {"error", "detail"}
POST /v1/signatures  a SignatureBatch from a peer; 200 with what happened to each signature
GET  /v1/evidence/{job_id}/{evidence_hash}  the item's state, verdict and signatures so far
"""

import asyncio
import logging
import socket
import threading
from typing import Any

import uvicorn
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from protocol_core.handoff import IntakeRequest, SignatureBatch
from runtime.errors import ConfigError

from .exchange import Exchange
from .intake import Intake, Refused
from .relay_store import relay_items, relay_signatures

log = logging.getLogger(__name__)


def app(intake: Intake, exchange: Exchange, engine: Engine, max_body: int) -> Starlette:
    """The routes over the intake and the exchange; `max_body` bytes at most per request."""

    async def parse(request: Request, model: type[BaseModel]) -> Any:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            raise Refused(413, "oversized", f"the request is {declared} bytes; at most {max_body}")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_body:
                raise Refused(413, "oversized", f"the request is over {max_body} bytes")
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise Refused(400, "malformed", f"{where}: {first['msg']}") from error

    async def evidence(request: Request) -> JSONResponse:
        try:
            record = await parse(request, IntakeRequest)
            receipt = await asyncio.to_thread(intake.take, record)
        except Refused as refused:
            return _refusal(refused)
        return JSONResponse(receipt.as_json(), status_code=202)

    async def signatures(request: Request) -> JSONResponse:
        try:
            batch = await parse(request, SignatureBatch)
        except Refused as refused:
            log.warning("peer sent garbage: %s", refused.detail, extra={"peer": _client(request)})
            return _refusal(refused)
        return JSONResponse({"results": await asyncio.to_thread(exchange.receive, batch)})

    async def status(request: Request) -> JSONResponse:
        job_id, evidence_hash = request.path_params["job_id"], request.path_params["evidence_hash"].lower()
        return JSONResponse(await asyncio.to_thread(_status, engine, job_id, evidence_hash))

    return Starlette(
        routes=[
            Route("/v1/evidence", evidence, methods=["POST"]),
            Route("/v1/signatures", signatures, methods=["POST"]),
            Route("/v1/evidence/{job_id}/{evidence_hash}", status, methods=["GET"]),
        ]
    )


def _refusal(refused: Refused) -> JSONResponse:
    headers = {"retry-after": str(max(1, round(refused.retry_after)))} if refused.status == 429 else None
    return JSONResponse({"error": refused.code, "detail": refused.detail}, refused.status, headers=headers)


def _client(request: Request) -> str:
    return f"{request.client.host}:{request.client.port}" if request.client else "?"


def _status(engine: Engine, job_id: str, evidence_hash: str) -> dict[str, Any]:
    with engine.connect() as db:
        item = db.execute(
            select(relay_items.c.state, relay_items.c.approve, relay_items.c.reason, relay_items.c.detail)
            .where(relay_items.c.job_id == job_id)
            .where(relay_items.c.evidence_hash == evidence_hash)
        ).first()
        signed = db.execute(
            select(func.count())
            .where(relay_signatures.c.job_id == job_id)
            .where(relay_signatures.c.evidence_hash == evidence_hash)
        ).scalar_one()
    if item is None:
        return {"job_id": job_id, "evidence_hash": evidence_hash, "state": "unknown"}
    return {
        "job_id": job_id,
        "evidence_hash": evidence_hash,
        "state": item.state,
        "approve": item.approve,
        "reason": item.reason,
        "detail": item.detail,
        "signatures": signed,
    }


class RelayServer:
    """uvicorn on its own thread, on a socket bound at construction (port 0 picks a free one)."""

    def __init__(self, application: Starlette, host: str, port: int) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as error:
            self._socket.close()
            raise ConfigError(f"cannot listen on {host}:{port} for the intake ({error.strerror})") from error
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(application, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="relay-http", daemon=True)

    def start(self) -> None:
        """Serves in the background."""
        self._thread.start()
        log.info("serving the evidence intake and the signature exchange", extra={"port": self.port})

    def stop(self) -> None:
        """Stops serving."""
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._socket.listen(512)
        asyncio.run(self._server.serve(sockets=[self._socket]))
