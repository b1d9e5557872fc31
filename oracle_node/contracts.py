"""The escrow's and the oracle's reads and calldata the node needs, over the runtime's Chain."""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import decode, encode
from eth_utils import to_checksum_address

from protocol_core.abi import abi
from protocol_core.enums import JobStatus
from protocol_core.terms import TERMS_ABI, JobTerms
from runtime.abi import error_names, function_selector
from runtime.chain import BlockRef, Chain

VERIFICATION_CONTEXT = function_selector(abi("JobEscrow"), "verificationContext")
ATTEST = function_selector(abi("VerificationOracle"), "attest")
ORACLE_ESCROW = function_selector(abi("VerificationOracle"), "escrow")
OPERATOR_OF = function_selector(abi("VerificationOracle"), "operatorOf")
MIN_STAKE = function_selector(abi("VerificationOracle"), "minStake")
OPERATOR = ["uint96", "uint96", "uint40", "uint8", "bool"]  # stake, unstaking, unstakeAt, index, active
ERRORS = error_names(abi("VerificationOracle") + abi("JobEscrow"))


@dataclass(frozen=True)
class VerificationContext:
    """What the escrow says about a job's evidence at some block."""

    status: int
    evidence_hash: str
    verify_by: int

    def behind(self, evidence_hash: str) -> bool:
        """Whether this is older than the submission of `evidence_hash` the node has seen: the job not
        yet Submitted, or Submitted with this very hash (while a dry run said otherwise)."""
        return self.status < JobStatus.SUBMITTED or (
            self.status == JobStatus.SUBMITTED and self.evidence_hash == evidence_hash
        )


@dataclass(frozen=True)
class Standing:
    """The oracle's record of one operator."""

    operator: str
    in_set: bool  # in the operator set (governance adds and removes)
    stake: int  # counts toward minStake; lowered by a slash or an unstake request
    min_stake: int

    def problem(self) -> str | None:
        """Why this operator cannot attest, with what to do; None when it can."""
        if not self.in_set:
            return (
                f"{self.operator} is not in the oracle's operator set (never added, or removed by "
                "governance): ask governance to add it, or run the node with an operator's --account"
            )
        if self.stake < self.min_stake:
            return (
                f"{self.operator} has {self.stake} staked, below minStake {self.min_stake} (slashed or "
                f"unstaking): stake at least {self.min_stake - self.stake} more to attest again"
            )
        return None


class OracleContracts:
    """One deployment's JobEscrow and VerificationOracle, read and called through `chain`."""

    def __init__(self, chain: Chain, escrow: str, oracle: str) -> None:
        self.chain = chain
        self.escrow, self.oracle = to_checksum_address(escrow), to_checksum_address(oracle)

    def oracle_escrow(self) -> str:
        """The escrow the oracle reports its verdicts to."""
        (escrow,) = decode(["address"], self.chain.call(self.oracle, ORACLE_ESCROW))
        return to_checksum_address(escrow)

    def standing(self, operator: str) -> Standing:
        """The oracle's record of `operator` and its minStake, in one batch request."""
        record, min_stake = self.chain.calls(
            [(self.oracle, OPERATOR_OF + encode(["address"], [operator])), (self.oracle, MIN_STAKE)]
        )
        stake, _unstaking, _unstake_at, _index, active = decode(OPERATOR, record)
        (minimum,) = decode(["uint256"], min_stake)
        return Standing(operator, bool(active), int(stake), int(minimum))

    def verification_contexts(self, job_ids: list[str], at: BlockRef) -> list[VerificationContext] | None:
        """The escrow's status, evidence hash and verify-by of each job at block `at`, in one batch
        request; None when the RPC does not have that block yet."""
        calls = [(self.escrow, VERIFICATION_CONTEXT + bytes.fromhex(job_id[2:])) for job_id in job_ids]
        results = self.chain.calls_at(calls, at)
        if results is None:
            return None
        contexts = []
        for result in results:
            status, evidence_hash, verify_by = decode(["uint8", "bytes32", "uint40"], result)
            contexts.append(VerificationContext(status, "0x" + evidence_hash.hex(), verify_by))
        return contexts

    def dry_runs(self, sender: str, calls: Sequence[bytes], at: BlockRef) -> list[int | str]:
        """Gas each `attest` calldata needs at block `at`, or the name of the custom error it would
        revert with (or the RPC's refusal, as when it does not have that block yet)."""
        return self.chain.dry_runs(sender, self.oracle, calls, ERRORS, at)


def attest_call(job_id: str, evidence_hash: str, approve: bool, reason: int, terms: JobTerms) -> bytes:
    """Calldata of the oracle's `attest`."""
    args = [bytes.fromhex(job_id[2:]), bytes.fromhex(evidence_hash[2:]), approve, reason, terms.as_abi()]
    return ATTEST + encode(["bytes32", "bytes32", "bool", "uint8", TERMS_ABI], args)
