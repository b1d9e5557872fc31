"""The escrow's and oracle's reads and calldata of the relayed flow, over the runtime's Chain."""

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import to_checksum_address

from protocol_core.abi import abi
from protocol_core.abi_words import checksum
from protocol_core.enums import JobStatus
from protocol_core.relayed import SignedEvidence
from protocol_core.terms import TERMS_ABI, JobTerms
from runtime.abi import error_names, event_topic, function_selector
from runtime.chain import Chain
from runtime.errors import ChainUnavailable

from .relay_store import ItemState

ORACLE, ESCROW = abi("VerificationOracle"), abi("JobEscrow")
JOB_STATE = function_selector(ESCROW, "jobState")
VERIFICATION_CONTEXT = function_selector(ESCROW, "verificationContext")
SUBMIT_EVIDENCE_FOR = function_selector(ESCROW, "submitEvidenceFor")
SUBMIT_AND_ATTEST = function_selector(ORACLE, "submitAndAttest")
ATTEST_WITH_SIGNATURES = function_selector(ORACLE, "attestWithSignatures")
SET_NONCE = function_selector(ORACLE, "setNonce")
QUORUM = function_selector(ORACLE, "quorum")
MIN_STAKE = function_selector(ORACLE, "minStake")
OPERATOR_OF = function_selector(ORACLE, "operatorOf")
ENDPOINT_OF = function_selector(ORACLE, "endpointOf")
TALLY = function_selector(ORACLE, "tally")
OPERATOR_ADDED = event_topic(ORACLE, "OperatorAdded")
OPERATOR_REMOVED = event_topic(ORACLE, "OperatorRemoved")
ERRORS = error_names(ORACLE + ESCROW)
EVIDENCE_ABI = "(bytes32,string,uint256,bytes32[2])"
Signature = tuple[bytes, bytes]
SEEN_JOBS = 20_000  # job views kept for callers content with a recent one, before the old are dropped


@dataclass(frozen=True)
class JobView:
    """A job as the relayed flow needs it: status, worker and the evidence hash on chain (if any)."""

    status: JobStatus
    worker: str
    evidence_hash: str  # 0x + 64 hex; zero until evidence is submitted


@dataclass(frozen=True)
class Member:
    """One operator as the oracle has it now: in the set or not, its stake, the endpoint it published."""

    active: bool
    stake: int
    endpoint: str  # "" when none


@dataclass(frozen=True)
class OracleView:
    """The oracle's quorum, its operator-set nonce and minStake."""

    quorum: int
    set_nonce: int
    min_stake: int


class RelayReads:
    """The reads of one deployment the intake, the exchange and the leader need."""

    def __init__(self, chain: Chain, escrow: str, oracle: str) -> None:
        self.chain = chain
        self.escrow, self.oracle = to_checksum_address(escrow), to_checksum_address(oracle)
        self._seen: dict[str, tuple[float, JobView]] = {}  # job id -> (monotonic time read, view)
        self._lock = threading.Lock()  # the intake's threads and the node's loop read jobs

    def jobs(self, job_ids: Sequence[str], max_age: float = 0.0) -> list[JobView]:
        """Each job's status, worker and evidence hash, in one batch request; `max_age`: a view read
        (by any caller) at most that many seconds ago is good enough, only the others are asked for."""
        now, known = time.monotonic(), {}
        with self._lock:
            for job_id in job_ids if max_age > 0 else ():
                seen = self._seen.get(job_id)
                if seen is not None and now - seen[0] <= max_age:
                    known[job_id] = seen[1]
        asked = [job_id for job_id in dict.fromkeys(job_ids) if job_id not in known]
        calls: list[tuple[str, bytes]] = []
        for job_id in asked:
            calls += [(self.escrow, JOB_STATE + bytes.fromhex(job_id[2:]))]
            calls += [(self.escrow, VERIFICATION_CONTEXT + bytes.fromhex(job_id[2:]))]
        results = self.chain.calls(calls) if calls else []
        for job_id, state, context in zip(asked, results[::2], results[1::2], strict=True):
            # (uint8 status, address worker, uint40 deadline) and (uint8, bytes32 evidenceHash, uint40):
            # static words, read in place (eth_abi's decoder costs more than the call's answer)
            if len(state) != 96 or len(context) != 96:
                raise ChainUnavailable(f"the escrow answered {len(state)} and {len(context)} bytes for a job")
            status, worker = JobStatus(state[31]), checksum("0x" + state[44:64].hex())
            known[job_id] = JobView(status, worker, "0x" + context[32:64].hex())
        with self._lock:
            if len(self._seen) > SEEN_JOBS:  # only recent views are ever asked for again
                self._seen = {job: seen for job, seen in self._seen.items() if now - seen[0] < 60.0}
            self._seen.update((job_id, (now, known[job_id])) for job_id in asked)
        return [known[job_id] for job_id in job_ids]

    def oracle_view(self) -> OracleView:
        """Quorum, set nonce and minStake, in one batch request."""
        quorum, set_nonce, min_stake = self.chain.calls(
            [(self.oracle, QUORUM), (self.oracle, SET_NONCE), (self.oracle, MIN_STAKE)]
        )
        return OracleView(
            decode(["uint8"], quorum)[0], decode(["uint64"], set_nonce)[0], decode(["uint256"], min_stake)[0]
        )

    def operator_history(self, first_block: int, head: int) -> list[tuple[str, bool]]:
        """(operator, added) for every OperatorAdded and OperatorRemoved log, in chain order."""
        logs = self.chain.logs([self.oracle], [OPERATOR_ADDED, OPERATOR_REMOVED], first_block, head)
        return [
            (to_checksum_address("0x" + log.topics[1][-40:]), log.topics[0] == OPERATOR_ADDED) for log in logs
        ]

    def members(self, operators: Sequence[str]) -> list[Member]:
        """Each operator's standing and published endpoint, in one batch request."""
        calls: list[tuple[str, bytes]] = []
        for op in operators:
            calls += [(self.oracle, OPERATOR_OF + encode(["address"], [op]))]
            calls += [(self.oracle, ENDPOINT_OF + encode(["address"], [op]))]
        results = self.chain.calls(calls) if calls else []
        members = []
        for record, endpoint in zip(results[::2], results[1::2], strict=True):
            stake, _unstaking, _at, _index, active = decode(
                ["uint96", "uint96", "uint40", "uint8", "bool"], record
            )
            (url,) = decode(["string"], endpoint)
            members.append(Member(bool(active), int(stake), url))
        return members

    def tally(self, job_id: str) -> tuple[set[str], set[str]]:
        """The operators who attested `job_id` on chain so far: (approvers, rejecters)."""
        raw = self.chain.call(self.oracle, TALLY + bytes.fromhex(job_id[2:]))
        approvers, rejecters = decode(["address[]", "address[]"], raw)
        return {to_checksum_address(a) for a in approvers}, {to_checksum_address(a) for a in rejecters}

    def dry_runs(
        self, sender: str, calls: Sequence[tuple[str, bytes]], gas: Sequence[int] = ()
    ) -> list[int | str]:
        """Gas of each (to, calldata), or the custom error it would revert with; `gas[i]`, when given and
        not 0, is enough gas for call i as far as the caller knows (runtime.chain.Chain.dry_runs)."""
        groups: dict[tuple[str, int], list[int]] = {}  # one batch request per contract and bound
        for i, ((to, _), bound) in enumerate(zip(calls, list(gas) or [0] * len(calls), strict=True)):
            groups.setdefault((to, bound), []).append(i)
        results: dict[int, int | str] = {}
        for (to, bound), mine in groups.items():
            found = self.chain.dry_runs(sender, to, [calls[i][1] for i in mine], ERRORS, gas=bound)
            results.update(zip(mine, found, strict=True))
        return [results[i] for i in range(len(calls))]


def settled(row: Any, view: JobView) -> tuple[str, str] | None:
    """(state, detail) when the chain says the item needs nothing more from us, else None."""
    if view.status in (
        JobStatus.APPROVED,
        JobStatus.REJECTED,
        JobStatus.DISPUTED,
        JobStatus.PAID,
        JobStatus.REFUNDED,
    ):
        return ItemState.DONE, f"verdict on chain: job {view.status.name}"
    if view.status == JobStatus.SUBMITTED and view.evidence_hash == row.evidence_hash:
        return None
    if view.status == JobStatus.ACCEPTED and row.source == "intake":
        return None
    return ItemState.DROPPED, f"job {view.status.name} without this evidence"


def submit_and_attest_call(
    terms: JobTerms, evidence: SignedEvidence, approve: bool, reason: int, signatures: Sequence[Signature]
) -> bytes:
    """Calldata of the oracle's `submitAndAttest`."""
    types = [TERMS_ABI, EVIDENCE_ABI, "bool", "uint8", "bytes32[2][]"]
    args = [terms.as_abi(), evidence.as_abi(), approve, reason, [list(sig) for sig in signatures]]
    return SUBMIT_AND_ATTEST + encode(types, args)


def attest_with_signatures_call(
    job_id: str,
    evidence_hash: str,
    approve: bool,
    reason: int,
    terms: JobTerms,
    signatures: Sequence[Signature],
) -> bytes:
    """Calldata of the oracle's `attestWithSignatures`."""
    types = ["bytes32", "bytes32", "bool", "uint8", TERMS_ABI, "bytes32[2][]"]
    args = [
        bytes.fromhex(job_id[2:]),
        bytes.fromhex(evidence_hash[2:]),
        approve,
        reason,
        terms.as_abi(),
        [list(sig) for sig in signatures],
    ]
    return ATTEST_WITH_SIGNATURES + encode(types, args)


def submit_evidence_for_call(job_id: str, evidence: SignedEvidence) -> bytes:
    """Calldata of the escrow's `submitEvidenceFor`: the worker's evidence on chain, for the fallback."""
    return SUBMIT_EVIDENCE_FOR + encode(
        ["bytes32", EVIDENCE_ABI], [bytes.fromhex(job_id[2:]), evidence.as_abi()]
    )
