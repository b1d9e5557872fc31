"""The escrow's JobPosted and EvidenceSubmitted logs, decoded; a worker's URI never crashes the node."""

from dataclasses import dataclass

from eth_abi import decode as abi_decode

from protocol_core.abi import abi
from protocol_core.terms import TERMS_ABI, JobTerms
from runtime.abi import event_topic
from runtime.chain import Log

JOB_POSTED = event_topic(abi("JobEscrow"), "JobPosted")
EVIDENCE_SUBMITTED = event_topic(abi("JobEscrow"), "EvidenceSubmitted")
MAX_URI_BYTES = 2_048


@dataclass(frozen=True)
class Posted:
    """A JobPosted log: the terms of a job."""

    job_id: str
    terms: JobTerms
    block_number: int
    block_hash: str


@dataclass(frozen=True)
class Submitted:
    """An EvidenceSubmitted log."""

    job_id: str
    evidence_hash: str
    uri: str
    block_number: int
    block_hash: str


EscrowEvent = Posted | Submitted


def decode(log: Log) -> EscrowEvent:
    """The JobPosted or EvidenceSubmitted event in `log`."""
    topic, job_id = log.topics[0], log.topics[1]
    if topic == JOB_POSTED:
        (terms,) = abi_decode([TERMS_ABI], log.data)
        return Posted(job_id, JobTerms.from_event(terms), log.block_number, log.block_hash)
    evidence_hash, raw_uri = abi_decode(["bytes32", "bytes"], log.data)  # `string` is encoded as `bytes`
    return Submitted(job_id, "0x" + evidence_hash.hex(), _safe_uri(raw_uri), log.block_number, log.block_hash)


def _safe_uri(raw: bytes) -> str:
    """The worker's URI as text; the contract checks nothing, so invalid UTF-8, NUL bytes or a huge
    URI become a marker that no fetcher accepts (rejected as UNSUPPORTED_URI), never a crash."""
    try:
        uri = raw.decode("utf-8")
    except UnicodeDecodeError:
        uri = ""
    if not uri or "\x00" in uri or len(raw) > MAX_URI_BYTES:
        return "invalid-uri:0x" + raw[:32].hex()
    return uri
