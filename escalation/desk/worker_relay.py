"""What the worker's app asks of the desk besides its jobs' handoff (`worker_door`): the offers made to
a worker, and its relayed registration and availability (issue 13), within the desk's rate limits
(`relay_limit`: a refusal is a 429 with Retry-After).

Offers are read with the worker's EIP-191 read proof (the content store's `X-Reader`, `X-Read-Expires`,
`X-Read-Signature`, over the worker's own address), so nobody else learns them. A registration or an
availability change is the worker's EIP-712 signature: relaying it can only set that worker's own
profile; the desk pays the gas, as it does for a relayed acceptance.
"""

import json
from typing import Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from protocol_core.eip712 import InvalidSignature, availability_message, recover_compact
from protocol_core.relayed import SignedRegistration
from runtime.sender import Call

from .content_server import _proven_reader
from .tables import jobs, offers

HEX_SIGNATURE = r"^0x[0-9a-fA-F]{128}$"


class RegistrationRequest(BaseModel):
    """A worker's signed profile, for `WorkerRegistry.registerFor`."""

    worker: str
    languages: int = Field(ge=0, lt=2**64)
    expertise: int = Field(ge=0, lt=2**64)
    max_concurrent: int = Field(ge=1, lt=256)
    encryption_key: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    profile_uri: str = Field(max_length=2_000)
    deadline: int = Field(ge=0)
    signature: str = Field(pattern=HEX_SIGNATURE)


class AvailabilityRequest(BaseModel):
    """A worker's signed availability switch, for `WorkerRegistry.setAvailabilityFor`."""

    worker: str
    available: bool
    deadline: int = Field(ge=0)
    signature: str = Field(pattern=HEX_SIGNATURE)


def _compact(text: str) -> tuple[bytes, bytes]:
    raw = bytes.fromhex(text[2:])
    return raw[:32], raw[32:]


def worker_router(service: Any, run: Any) -> APIRouter:
    """The routes over the running desk `service`; `run` maps the desk's errors (and takes the send lock)."""
    router = APIRouter(prefix="/v1/worker")
    desk = service.desk

    @router.get("/offers/{worker}")
    def pending_offers(worker: str, request: Request) -> list[dict[str, Any]]:
        """The offers made to `worker` that still wait for its answer, newest first."""
        reader = _proven_reader(request, worker.lower())
        if reader.lower() != worker.lower():
            raise HTTPException(403, f"the read proof is {reader}'s: a worker reads only its own offers")
        with desk.engine.connect() as db:
            found = db.execute(
                select(offers, jobs.c.job_id, jobs.c.terms).join(jobs, jobs.c.desk_id == offers.c.desk_id)
                .where(offers.c.worker == worker.lower()).where(offers.c.answer == "pending")
                .order_by(offers.c.id.desc())
            ).all()  # fmt: skip
        return [
            {"job_id": r.job_id, "terms": json.loads(r.terms), "score": r.score,
             "reasons": json.loads(r.reasons), "offered_at": r.offered_at}
            for r in found
        ]  # fmt: skip

    @router.post("/registrations")
    def register(body: RegistrationRequest) -> dict[str, str]:
        """Relays the worker's signed registration (or profile change) at the desk's cost."""
        signed = SignedRegistration(
            to_checksum_address(body.worker), body.languages, body.expertise, body.max_concurrent,
            bytes.fromhex(body.encryption_key[2:]), body.profile_uri, body.deadline, _compact(body.signature),
        )  # fmt: skip
        call = desk.contracts.registry.register_for(signed)
        return run(lambda: _send(service, call, signed.worker, "registration"))  # type: ignore[no-any-return]

    @router.post("/availability")
    def availability(body: AvailabilityRequest) -> dict[str, str]:
        """Relays the worker's signed availability switch at the desk's cost."""
        worker = to_checksum_address(body.worker)
        message = availability_message(
            chain_id=desk.chain_id, registry=desk.contracts.registry.address, worker=worker,
            available=body.available, nonce=desk.contracts.registry.nonce(worker), deadline=body.deadline,
        )  # fmt: skip
        try:
            signer = recover_compact(message, _compact(body.signature))
        except InvalidSignature as error:
            raise HTTPException(400, str(error)) from error
        if signer != worker:
            raise HTTPException(400, f"the signature is {signer}'s, not {worker}'s; nothing was sent")
        call = desk.contracts.registry.set_availability_for(worker, body.available, body.deadline,
                                                             _compact(body.signature))  # fmt: skip
        return run(lambda: _send(service, call, worker, "availability"))  # type: ignore[no-any-return]

    return router


def _send(service: Any, call: Any, worker: str, action: str) -> dict[str, str]:
    """Checks the rate limits, dry-runs the relayed call (the registry checks the signature and nonce),
    sends it and counts it; under the send lock, so two requests cannot both take the last call."""
    desk = service.desk
    service.relays.check(worker)
    gas = desk.contracts.gas(desk.agent.address, call.to, call.data, f"the relayed {action} of {worker}")
    desk._send(Call(call.to, call.data, gas, (f"w-{worker[2:12].lower()}", action)))
    service.relays.record(worker, action)
    return {"worker": worker, "status": "sent"}
