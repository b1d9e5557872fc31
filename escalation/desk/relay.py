"""Relaying a worker's signed acceptance (issue 10): the desk pays the gas because it wants the job taken.

The worker signs `Acceptance(jobId, worker, deadline)` under the escrow's EIP-712 domain with the
key its app holds; the signature names no amount and no recipient, so relaying it can only make that
worker take that job. The desk checks who signed before paying for a dry run, and the dry run refuses
anything the escrow would (an ineligible worker, a passed deadline, a job no longer open). A worker
whose acceptance cannot be relayed can still accept on chain itself (`acceptJob`).
"""

from eth_utils import is_address, to_checksum_address
from pydantic import BaseModel, Field

from protocol_core.relayed import SignedAcceptance
from protocol_core.terms import JobTerms

from .contracts import needs_chain
from .desk import Desk
from .errors import InvalidRequest, NotAllowedNow
from .requests import DeskStatus

HEX_SIGNATURE = r"^0x[0-9a-fA-F]{128}$"


class AcceptanceRequest(BaseModel):
    """A worker's signed acceptance as it reaches the desk: the compact (r, yParity|s) signature."""

    worker: str = Field(description="the worker's address")
    deadline: int = Field(ge=0, description="unix seconds the signature is valid until")
    signature: str = Field(pattern=HEX_SIGNATURE, description="0x + r (32 bytes) + yParity|s (32 bytes)")


class AcceptanceReceipt(BaseModel):
    """What the worker is told: the relayed acceptance is sent (the job shows accepted once mined)."""

    job_id: str
    status: DeskStatus


class AcceptanceRelayer:
    """Sends a worker's signed acceptance of one of the desk's open jobs, paying the gas."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    @needs_chain
    def relay(self, job_id: str, request: AcceptanceRequest) -> AcceptanceReceipt:
        """Checks and sends the acceptance; the job's status after (accepted once the follow loop sees it)."""
        row = self.desk.row(job_id)
        if row.job_id != job_id.lower():
            raise InvalidRequest("name the job by its job id (0x + 64 hex) to accept it")
        if row.status != DeskStatus.OPEN:
            raise NotAllowedNow(f"{row.desk_id} is {row.status}: only an open job can be accepted")
        if not is_address(request.worker):
            raise InvalidRequest(f"{request.worker!r} is not an address")
        raw = bytes.fromhex(request.signature[2:])
        acceptance = SignedAcceptance(
            job_id=bytes.fromhex(row.job_id[2:]), worker=to_checksum_address(request.worker),
            deadline=request.deadline, signature=(raw[:32], raw[32:]),
        )  # fmt: skip
        signer = acceptance.signer(chain_id=self.desk.chain_id, escrow=self.desk.contracts.escrow.address)
        if signer != acceptance.worker:
            raise InvalidRequest(
                f"the signature is {signer}'s, not {acceptance.worker}'s: the worker signs the acceptance "
                "of this job with its own key (its app does); nothing was sent"
            )
        call = self.desk.contracts.escrow.accept_job_for(JobTerms.model_validate_json(row.terms), acceptance)
        view = self.desk.send_for(row.desk_id, call, "relayed acceptance")
        return AcceptanceReceipt(job_id=row.job_id, status=view.status)
