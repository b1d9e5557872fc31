"""The work itself: the jobs a worker may take, one-click acceptance (a signature the desk relays), the
sealed context opened locally, the evidence handed to the oracle nodes, and the progress until paid."""

import time
from dataclasses import dataclass
from typing import Any

from protocol_core.content import ContentClient, ContentError, FolderStore
from protocol_core.context import ContextBundle, ContextError
from protocol_core.enums import JobStatus
from protocol_core.evidence import EvidenceBundle, Outcome
from protocol_core.handoff import compact_hex
from protocol_core.languages import LANGUAGES
from protocol_core.relayed import sign_acceptance, sign_evidence
from protocol_core.sealing import SealError, open_context
from protocol_core.terms import ZERO_ADDRESS

from .core import Core
from .errors import BadInput, Refused, TamperedContext
from .index import JobRow
from .profile import Profile
from .remote import hand_in
from .wallet import Keys


@dataclass(frozen=True)
class Offer:
    """A job the worker may take, and whether the desk offered it to this worker in particular."""

    job: JobRow
    offered: bool
    reasons: tuple[str, ...] = ()


def eligible(job: JobRow, profile: Profile) -> bool:
    """What the registry checks, from the worker's own profile (the escrow checks again on accept)."""
    req, me = job.terms.requirements, profile.address.lower()
    return (
        profile.registered and profile.available and profile.active_jobs < profile.max_concurrent
        and req.language < 64 and profile.languages.count(_code(req.language)) > 0
        and req.expertise & profile.expertise_bits == req.expertise
        and req.certifications & profile.certification_bits == req.certifications
        and job.terms.offered_to.lower() in (ZERO_ADDRESS, me)
    )  # fmt: skip


def _code(index: int) -> str:
    return LANGUAGES[index] if index < len(LANGUAGES) else "?"


def available_jobs(core: Core, profile: Profile, now: int, offers: list[dict[str, Any]]) -> list[Offer]:
    """The desk's offers to this worker first, then the open jobs it is eligible for."""
    indices = {LANGUAGES.index(code) for code in profile.languages}
    offered = {o["job_id"].lower(): tuple(o.get("reasons", ())) for o in offers}
    named = [core.index.job(job_id) for job_id in offered]  # an offer may pay less than the top of the list
    candidates = [
        j for j in named if j is not None and j.status == JobStatus.OPEN and j.terms.accept_by >= now
    ]
    known = {j.job_id for j in candidates}
    candidates += [j for j in core.index.open_jobs(now, indices, limit=100) if j.job_id not in known]
    found = [j for j in candidates if eligible(j, profile)]
    return [Offer(j, j.job_id in offered, offered.get(j.job_id, ())) for j in found]


def current(core: Core, job_id: str) -> JobRow:
    """The job with its status re-read from the chain (BadInput when the index does not know it)."""
    if core.index.job(job_id) is None:
        core.index.sync(core.chain)
    if core.index.job(job_id) is None:
        raise BadInput(detail="refusal.no_job", job_id=job_id)
    core.index.refresh(core.chain, job_id)
    row = core.index.job(job_id)
    assert row is not None
    return row


def accept(core: Core, keys: Keys, job_id: str) -> dict[str, Any]:
    """Signs the acceptance of one open job and has the desk relay it."""
    job, now = current(core, job_id), core.chain.now()
    if job.worker is not None and job.worker.lower() == keys.address.lower():
        raise Refused(detail="refusal.yours_already")
    if now > job.terms.accept_by:
        raise Refused(detail="refusal.accept_passed", when=_when(job.terms.accept_by))
    if job.status == JobStatus.REFUNDED and job.worker is None:
        raise Refused(detail="refusal.withdrawn")
    if job.status != JobStatus.OPEN:
        raise Refused(detail="refusal.taken")
    signed = sign_acceptance(
        bytes(keys.account.key),
        chain_id=core.chain.chain_id,
        escrow=core.chain.escrow.address,
        job_id=bytes.fromhex(job_id[2:]),
        worker=keys.address,
        deadline=min(core.deadline(), job.terms.accept_by),
    )
    return core.desk.accept(signed)


def open_job_context(core: Core, keys: Keys, job_id: str) -> tuple[ContextBundle | None, dict[str, Any]]:
    """The job's context, opened with this wallet's X25519 key and checked against the terms; None while
    the desk has not sealed it yet. TamperedContext when it is not the job's own."""
    job = current(core, job_id)
    handoff = core.desk.handoff(keys, job_id)
    if handoff.get("context") is None:
        return None, handoff
    folder = FolderStore(core.settings.content_folder) if core.settings.content_folder else None
    client = ContentClient(folder=folder, reader=keys.account)
    try:
        envelope = client.get(handoff["context"]["uri"], handoff["context"]["blob"])
        bundle = open_context(envelope, keys.x25519, agent=job.terms.agent, spec_hash=job.terms.spec_hash)
    except (SealError, ContextError, ContentError) as error:
        raise TamperedContext(detail="refusal.context", reason=str(error)) from error
    finally:
        client.close()
    return bundle, handoff


def submit(core: Core, keys: Keys, job_id: str, summary: str) -> list[dict[str, Any]]:
    """Builds the evidence (the customer's confirmation from the desk and the worker's summary), signs it
    and hands it to every oracle node; the draft is kept first, so nothing typed is lost."""
    core.index.save_work(job_id, summary=summary)
    if not summary.strip():
        raise BadInput(detail="refusal.summary_empty")
    if len(summary) > 4000:
        raise BadInput(detail="refusal.summary_long", length=len(summary))
    job, now = current(core, job_id), core.chain.now()
    if job.status != JobStatus.ACCEPTED or (job.worker or "").lower() != keys.address.lower():
        raise Refused(detail="refusal.nothing_to_submit", status=job.status.name.lower())
    if now > job.terms.resolve_by:
        raise Refused(detail="refusal.resolve_passed", when=_when(job.terms.resolve_by))
    confirmation = core.desk.handoff(keys, job_id).get("confirmation")
    if not confirmation:
        raise Refused(detail="refusal.not_confirmed")
    bundle = EvidenceBundle(
        version=1, chain_id=core.chain.chain_id, escrow=core.chain.escrow.address, job_id=job_id.lower(),
        ticket_ref=str(confirmation["ticket_ref"]), outcome=Outcome(int(confirmation["outcome"])),
        confirmed_at=int(confirmation["confirmed_at"]), summary=summary,
        confirmation=str(confirmation["confirmation"]),
    )  # fmt: skip
    raw = bundle.canonical()
    uri = core.desk.store_evidence(keys, job_id, raw)
    signed = sign_evidence(
        bytes(keys.account.key), chain_id=core.chain.chain_id, escrow=core.chain.escrow.address,
        job_id=bytes.fromhex(job_id[2:]), evidence_hash=bundle.digest(), uri=uri,
        deadline=min(core.deadline(), job.terms.resolve_by),
    )  # fmt: skip
    request = {"terms": job.terms.model_dump(mode="json"), "evidence_hash": "0x" + bundle.digest().hex(),
               "uri": uri, "worker": keys.address, "deadline": signed.deadline,
               "signature": compact_hex(signed.signature), "bundle": raw.decode()}  # fmt: skip
    core.index.save_work(job_id, evidence_hash=request["evidence_hash"], uri=uri, bundle=raw.decode())
    receipts = hand_in(core.settings.oracle_urls, request)
    core.index.save_work(job_id, receipts=receipts, handed_in_at=int(time.time()))
    if not any(r["ok"] for r in receipts):
        details = "; ".join(f"{r['node']}: {r['detail']}" for r in receipts) or "no oracle node is configured"
        raise Refused(detail="refusal.no_node", details=details)
    return receipts


STEPS = ("accepted", "submitted", "verified", "paid")
OUTCOMES = ("accepting", "working", "verifying", "approved", "rejected", "refunded", "disputed", "paid")


def progress(job: JobRow, handed_in: bool) -> tuple[int, str]:
    """How far the job has come (an index in STEPS) and its outcome word."""
    status = job.status
    if status == JobStatus.PAID:
        return 3, "paid"
    if status in (JobStatus.REFUNDED, JobStatus.REJECTED):
        return 2, "rejected" if job.approved is False or status == JobStatus.REJECTED else "refunded"
    if status == JobStatus.DISPUTED:
        return 2, "disputed"
    if status == JobStatus.APPROVED:
        return 2, "approved"
    if status == JobStatus.SUBMITTED or handed_in:
        return 1, "verifying"
    return 0, "working"


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))
