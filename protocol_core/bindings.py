"""Typed bindings over web3.py for the escrow, oracle, registry and pool: views and unsigned calls.

A view returns a small frozen record (protocol_core.records); a call returns a `Call` (target
and calldata) that the role's sender signs and sends, so bindings never hold keys. The provider is
handed in; nothing is read from the network until a method is called.
"""

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from .abi import abi
from .eip712 import Permit
from .enums import Ineligibility, JobStatus, RoundPhase, RulingOption
from .records import DisputeInfo, JobState, OperatorInfo, Round, VerificationContext, WorkerProfile
from .relayed import SignedAcceptance, SignedEvidence, SignedRegistration
from .terms import JobTerms, Requirements


@dataclass(frozen=True)
class Call:
    """An unsigned contract call: what a sender needs besides nonce, gas and fees."""

    to: str
    data: bytes
    function: str  # "JobEscrow.postJob", for logs and errors


class _Binding:
    NAME = ""

    def __init__(self, w3: Web3, address: str) -> None:
        self.address = to_checksum_address(address)
        self._contract = w3.eth.contract(address=self.address, abi=abi(self.NAME))

    def _view(self, function: str, *args: Any) -> Any:
        return getattr(self._contract.functions, function)(*args).call()

    def _call(self, function: str, *args: Any) -> Call:
        data = self._contract.encode_abi(function, args=list(args))
        return Call(to=self.address, data=bytes.fromhex(data[2:]), function=f"{self.NAME}.{function}")


class Escrow(_Binding):
    """JobEscrow: jobs, evidence, disputes and accounts."""

    NAME = "JobEscrow"

    def quote(self, reward: int) -> tuple[int, int]:
        """(oracle fee, protocol fee) a job with `reward` pays now."""
        oracle_fee, protocol_fee = self._view("quote", reward)
        return int(oracle_fee), int(protocol_fee)

    def job_state(self, job_id: bytes) -> JobState:
        """Where job `job_id` is; status NONE for a job never posted."""
        status, worker, deadline = self._view("jobState", job_id)
        return JobState(JobStatus(status), to_checksum_address(worker), int(deadline))

    def verification_context(self, job_id: bytes) -> VerificationContext:
        """Status, submitted evidence hash and verify-by of job `job_id`."""
        status, evidence_hash, verify_by = self._view("verificationContext", job_id)
        return VerificationContext(JobStatus(status), bytes(evidence_hash), int(verify_by))

    def dispute_of(self, job_id: bytes) -> DisputeInfo:
        """The dispute of job `job_id` (dispute id 0 and not ruled when none)."""
        d_id, fee, bond, by_worker, from_reward, ruled, ruling = self._view("disputeOf", job_id)
        return DisputeInfo(
            int(d_id), int(fee), int(bond), by_worker, from_reward, ruled, RulingOption(ruling)
        )

    def dispute_cost(self, reward: int) -> tuple[int, int]:
        """(arbitration fee, bond) a dispute of a job with `reward` costs now."""
        fee, bond = self._view("disputeCost", reward)
        return int(fee), int(bond)

    def credit_of(self, account: str) -> int:
        """Token units credited to `account`, waiting for `withdraw`."""
        return int(self._view("creditOf", to_checksum_address(account)))

    def operator_fees_of(self, operator: str) -> int:
        """Oracle fees `operator` earned, waiting for `withdrawOperatorFees`."""
        return int(self._view("operatorFeesOf", to_checksum_address(operator)))

    def post_job(self, terms: JobTerms) -> Call:
        """Posts `terms`, pulling reward and fees from the agent's allowance."""
        return self._call("postJob", terms.as_abi())

    def post_job_with_permit(self, terms: JobTerms, permit: Permit) -> Call:
        """Posts `terms` with an EIP-2612 permit for `permit.value` (the total, or more for later posts)."""
        return self._call(
            "postJobWithPermit", terms.as_abi(), permit.value, permit.deadline, permit.v, permit.r, permit.s
        )

    def cancel_job(self, terms: JobTerms) -> Call:
        """Cancels an open job and refunds its agent."""
        return self._call("cancelJob", terms.as_abi())

    def accept_job(self, terms: JobTerms) -> Call:
        """Accepts the job as the sender (the worker)."""
        return self._call("acceptJob", terms.as_abi())

    def submit_evidence(self, job_id: bytes, evidence_hash: bytes, uri: str) -> Call:
        """Submits the evidence bundle's hash and where it can be fetched."""
        return self._call("submitEvidence", job_id, evidence_hash, uri)

    def accept_job_for(self, terms: JobTerms, acceptance: SignedAcceptance) -> Call:
        """Relays a worker's signed acceptance (`relayed.sign_acceptance`); anyone may send it."""
        a = acceptance
        return self._call("acceptJobFor", terms.as_abi(), a.worker, a.deadline, list(a.signature))

    def submit_evidence_for(self, job_id: bytes, evidence: SignedEvidence) -> Call:
        """Relays the worker's signed evidence on its own (the fallback of `submitAndAttest`)."""
        return self._call("submitEvidenceFor", job_id, evidence.as_abi())

    def dispute(self, terms: JobTerms, from_reward: bool = False) -> Call:
        """Disputes the verdict (or a missed verification) of the job."""
        return self._call("dispute", terms.as_abi(), from_reward)

    def appeal(self, terms: JobTerms) -> Call:
        """Appeals the current ruling of the job's dispute."""
        return self._call("appeal", terms.as_abi())

    def submit_dispute_evidence(self, job_id: bytes, uri: str) -> Call:
        """Adds a party's statement or evidence to the job's dispute (ERC-1497)."""
        return self._call("submitDisputeEvidence", job_id, uri)

    def settle(self, terms: JobTerms) -> Call:
        """Settles whatever time has decided for the job (anyone may call)."""
        return self._call("settle", terms.as_abi())

    def withdraw(self, to: str) -> Call:
        """Withdraws the sender's credit to `to`."""
        return self._call("withdraw", to_checksum_address(to))

    def withdraw_operator_fees(self, to: str) -> Call:
        """Pays the sender's oracle fees (as an operator) to `to`."""
        return self._call("withdrawOperatorFees", to_checksum_address(to))


class Oracle(_Binding):
    """VerificationOracle: operators, stakes and attestations."""

    NAME = "VerificationOracle"

    def operator_of(self, operator: str) -> OperatorInfo:
        """The stake and status of `operator`."""
        stake, unstaking, unstake_at, index, active = self._view("operatorOf", to_checksum_address(operator))
        return OperatorInfo(int(stake), int(unstaking), int(unstake_at), int(index), bool(active))

    def disputed_verdicts(self, operator: str) -> int:
        """Disputed, unsettled verdicts `operator` attested: its stake cannot be withdrawn before 0."""
        return int(self._view("disputedVerdicts", to_checksum_address(operator)))

    def quorum(self) -> int:
        """Matching attestations a verdict needs."""
        return int(self._view("quorum"))

    def set_nonce(self) -> int:
        """The operator-set nonce attestation signatures are bound to."""
        return int(self._view("setNonce"))

    def min_stake(self) -> int:
        """Least stake an operator needs to attest."""
        return int(self._view("minStake"))

    def attest(
        self, job_id: bytes, evidence_hash: bytes, approve: bool, reason: int, terms: JobTerms
    ) -> Call:
        """The sender's (an operator's) attestation."""
        return self._call("attest", job_id, evidence_hash, approve, int(reason), terms.as_abi())

    def attest_with_signatures(
        self,
        job_id: bytes,
        evidence_hash: bytes,
        approve: bool,
        reason: int,
        terms: JobTerms,
        signatures: list[list[bytes]],
    ) -> Call:
        """A quorum's EIP-712 attestations (compact form) in one transaction; anyone may send it."""
        return self._call(
            "attestWithSignatures", job_id, evidence_hash, approve, int(reason), terms.as_abi(), signatures
        )

    def submit_and_attest(
        self,
        terms: JobTerms,
        evidence: SignedEvidence,
        approve: bool,
        reason: int,
        signatures: list[list[bytes]],
    ) -> Call:
        """The worker's signed evidence and the quorum's signatures, verdict and payout in one call."""
        return self._call(
            "submitAndAttest", terms.as_abi(), evidence.as_abi(), approve, int(reason), signatures
        )

    def stake(self, amount: int) -> Call:
        """Adds `amount` to the sender's stake (after an allowance)."""
        return self._call("stake", amount)

    def request_unstake(self, amount: int) -> Call:
        """Starts the unstaking delay for `amount`."""
        return self._call("requestUnstake", amount)

    def withdraw_stake(self) -> Call:
        """Withdraws stake whose delay has passed."""
        return self._call("withdrawStake")


class Registry(_Binding):
    """WorkerRegistry: profiles, keys, certifications and eligibility."""

    NAME = "WorkerRegistry"

    def profile(self, worker: str) -> WorkerProfile:
        """The on-chain profile of `worker` (all zero when not registered)."""
        return WorkerProfile(*self._view("profile", to_checksum_address(worker)))

    def encryption_key(self, worker: str) -> bytes:
        """The X25519 public key context bundles are sealed to."""
        return bytes(self._view("encryptionKey", to_checksum_address(worker)))

    def eligibility(self, worker: str, requirements: Requirements) -> Ineligibility:
        """Why `worker` may not take a job with `requirements` (NONE when it may)."""
        return Ineligibility(self._view("eligibility", to_checksum_address(worker), requirements.as_abi()))

    def register(self, languages: int, expertise: int, max_concurrent: int, key: bytes, uri: str) -> Call:
        """Registers the sender, or updates its profile."""
        return self._call("register", languages, expertise, max_concurrent, key, uri)

    def set_availability(self, available: bool) -> Call:
        """Turns the sender's availability on or off."""
        return self._call("setAvailability", available)

    def nonce(self, worker: str) -> int:
        """The nonce `worker`'s next signed registration or availability change carries."""
        return int(self._view("nonces", to_checksum_address(worker)))

    def register_for(self, registration: SignedRegistration) -> Call:
        """Relays a worker's signed registration (`relayed.sign_registration`); anyone may send it."""
        return self._call("registerFor", *registration.as_abi())

    def set_availability_for(
        self, worker: str, available: bool, deadline: int, signature: tuple[bytes, bytes]
    ) -> Call:
        """Relays a worker's signed availability switch (`relayed.sign_availability`)."""
        worker = to_checksum_address(worker)
        return self._call("setAvailabilityFor", worker, available, deadline, list(signature))


class Pool(_Binding):
    """ArbitrationPool: stakes, panels and votes."""

    NAME = "ArbitrationPool"

    def phase(self, dispute_id: int) -> RoundPhase:
        """The phase of the dispute's current round."""
        return RoundPhase(self._view("phase", dispute_id))

    def round_of(self, dispute_id: int, round_index: int) -> Round:
        """Round `round_index` of the dispute."""
        fee, size, votes, draw_by, commit_end, reveal_end, appeal_end, panel = self._view(
            "roundOf", dispute_id, round_index
        )
        return Round(
            int(fee), int(size), tuple(int(v) for v in votes),  # type: ignore[arg-type]
            int(draw_by), int(commit_end), int(reveal_end), int(appeal_end),
            tuple(to_checksum_address(a) for a in panel),
        )  # fmt: skip

    def stake(self, amount: int) -> Call:
        """Adds `amount` to the sender's arbitration stake."""
        return self._call("stake", amount)

    def draw(self, dispute_id: int) -> Call:
        """Draws the panel of the dispute's current round (anyone may call)."""
        return self._call("draw", dispute_id)

    def commit(self, dispute_id: int, commitment: bytes) -> Call:
        """Commits the sender's hidden vote."""
        return self._call("commit", dispute_id, commitment)

    def reveal(self, dispute_id: int, choice: int, salt: bytes) -> Call:
        """Reveals the sender's vote."""
        return self._call("reveal", dispute_id, int(choice), salt)

    def tally(self, dispute_id: int) -> Call:
        """Tallies the revealed votes of the current round (anyone may call)."""
        return self._call("tally", dispute_id)

    def execute_ruling(self, dispute_id: int) -> Call:
        """Makes the ruling final after the appeal period and delivers it (anyone may call)."""
        return self._call("executeRuling", dispute_id)
