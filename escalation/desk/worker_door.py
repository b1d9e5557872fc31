"""The desk's door for the worker who accepted a job: where its sealed context is, the customer's
confirmation, a place for its evidence bundle and for its dispute statements. No API key: each request
is signed by the worker's own key (EIP-191, valid a few minutes), and only the job's worker is answered
(a statement may also come from the job's agent).
"""

import time
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from pydantic import BaseModel
from sqlalchemy import select

from protocol_core.content import READ_PROOF_TTL, ContentClient, ContentError, content_hash
from protocol_core.enums import JobStatus
from protocol_core.errors import ProtocolError
from protocol_core.evidence import EvidenceBundle
from protocol_core.terms import JobTerms

from .desk import Desk
from .errors import BadProof, InvalidRequest, NotAllowedNow, NotYourJob, StoreUnavailable
from .requests import DeskStatus, SealView
from .statements import Statements, StoredStatement
from .tables import seals


class WorkerHandoff(BaseModel):
    """What the job's worker needs from the desk: the terms, its sealed copy, the confirmation."""

    job_id: str
    status: DeskStatus
    terms: JobTerms
    context: SealView | None  # None until the desk has sealed the context to this worker
    confirmation: dict[str, str | int] | None  # the confirmer's signature, once the helpdesk said so


class StoredEvidence(BaseModel):
    """Where the desk stored the worker's evidence bundle (its hash is the evidence hash)."""

    uri: str
    evidence_hash: str


def worker_proof_message(job_id: str, expires: int) -> SignableMessage:
    """The EIP-191 message a worker signs to be answered about `job_id` until `expires` (unix s)."""
    return encode_defunct(text=f"escalation desk worker\njob: {job_id.lower()}\nexpires: {expires}")


def proven_worker(job_id: str, reader: str | None, expires: str | None, signature: str | None) -> str:
    """The address that signed this request for `job_id`; BadProof when it is missing, stale or wrong."""
    if not reader or not expires or not expires.isdigit() or not signature:
        raise BadProof("sign the request: send X-Reader, X-Read-Expires and X-Read-Signature")
    now = int(time.time())
    if not now <= int(expires) <= now + READ_PROOF_TTL:
        raise BadProof(f"the proof expires at {expires}; sign a fresh one (now is {now}, at most 300 s on)")
    try:
        signer = str(
            Account.recover_message(
                worker_proof_message(job_id, int(expires)),
                signature=bytes.fromhex(signature.removeprefix("0x")),
            )
        )
    except Exception as exc:  # eth_keys raises several types for a malformed signature
        raise BadProof(f"the signature is not valid: {exc}") from exc
    if signer.lower() != reader.lower():
        raise BadProof(f"the request is signed by {signer}, not by {reader}: sign it with the worker's key")
    return signer


class WorkerDoor:
    """Answers the worker of one of the desk's jobs, and only it."""

    def __init__(self, desk: Desk, store: ContentClient, statements: Statements) -> None:
        self.desk, self.store, self.statements = desk, store, statements

    def handoff(self, job_id: str, worker: str) -> WorkerHandoff:
        """The job's terms, the worker's sealed copy (once made) and the confirmation (once signed)."""
        row = self._row_of(job_id, worker)
        with self.desk.engine.connect() as db:
            sealed = db.execute(
                select(seals).where(seals.c.desk_id == row.desk_id).where(seals.c.role == "worker")
                .where(seals.c.reader == row.worker).order_by(seals.c.id)
            ).first()  # fmt: skip
        view = self.desk.view(row.desk_id)
        context = None
        if sealed is not None:
            context = SealView(reader=sealed.reader, role=sealed.role, uri=sealed.uri, blob=sealed.blob)
        return WorkerHandoff(
            job_id=row.job_id, status=view.status, terms=JobTerms.model_validate_json(row.terms),
            context=context, confirmation=view.confirmation,
        )  # fmt: skip

    def store_evidence(self, job_id: str, worker: str, raw: bytes) -> StoredEvidence:
        """Stores the worker's evidence bundle for the job after checking it is one, for this job."""
        row = self._row_of(job_id, worker)
        try:
            bundle = EvidenceBundle.parse(raw)
        except ProtocolError as exc:
            raise InvalidRequest(f"{exc}; send the bundle's canonical bytes") from exc
        if bundle.canonical() != raw:
            raise InvalidRequest("the bundle is not in its canonical encoding: send bundle.canonical()")
        escrow = self.desk.contracts.escrow.address
        if (bundle.job_id, bundle.chain_id, bundle.escrow) != (row.job_id, self.desk.chain_id, escrow):
            raise InvalidRequest(
                f"the bundle is for job {bundle.job_id} on chain {bundle.chain_id} at {bundle.escrow}, not "
                f"for {row.job_id} on chain {self.desk.chain_id} at {escrow}"
            )
        try:
            uri = self.store.put(raw)
        except ContentError as exc:
            raise StoreUnavailable(f"cannot store the evidence: {exc}; nothing was lost, try again") from exc
        return StoredEvidence(uri=uri, evidence_hash=content_hash(raw))

    def store_statement(self, job_id: str, author: str, text: str) -> StoredStatement:
        """Stores a statement of the disputed job's worker (or agent) for the panel's case files."""
        row = self.desk.row(job_id)
        if row.job_id != job_id.lower():
            raise InvalidRequest("name the job by its job id (0x + 64 hex)")
        state = self.desk.contracts.escrow.job_state(bytes.fromhex(row.job_id[2:]))  # the chain's word
        parties = (state.worker.lower(), JobTerms.model_validate_json(row.terms).agent.lower())
        if author.lower() not in parties:
            raise NotYourJob(
                f"{author} is neither the worker nor the agent of {row.job_id}: only they make statements"
            )
        if state.status != JobStatus.DISPUTED:
            raise NotAllowedNow(
                f"{row.job_id} is {state.status.name.lower()}, not disputed: statements go to its panel"
            )
        return self.statements.add(row.desk_id, row.job_id, author, text)

    def _row_of(self, job_id: str, worker: str) -> Any:
        row = self.desk.row(job_id)
        if row.job_id != job_id.lower():
            raise InvalidRequest("name the job by its job id (0x + 64 hex)")
        if row.worker is None or row.worker.lower() != worker.lower():
            known = f"its worker is {row.worker}" if row.worker else "nobody has accepted it yet"
            raise NotYourJob(f"{worker} is not the worker of {row.job_id} ({known}): only its worker may ask")
        return row
