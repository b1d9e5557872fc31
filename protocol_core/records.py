"""What the contracts' views return, as small frozen records with named fields."""

from dataclasses import dataclass

from .enums import JobStatus, RulingOption


@dataclass(frozen=True)
class JobState:
    """`JobEscrow.jobState`: the status, the worker and the deadline the status is waiting on."""

    status: JobStatus
    worker: str
    deadline: int


@dataclass(frozen=True)
class VerificationContext:
    """`JobEscrow.verificationContext`: what an attestation is checked against."""

    status: JobStatus
    evidence_hash: bytes
    verify_by: int


@dataclass(frozen=True)
class DisputeInfo:
    """`JobEscrow.disputeOf`: a job's arbitration dispute and its ruling so far."""

    dispute_id: int
    fee: int
    bond: int
    by_worker: bool
    from_reward: bool
    ruled: bool
    ruling: RulingOption


@dataclass(frozen=True)
class OperatorInfo:
    """`VerificationOracle.operatorOf`."""

    stake: int
    unstaking: int
    unstake_at: int
    index: int
    active: bool


@dataclass(frozen=True)
class WorkerProfile:
    """`WorkerRegistry.profile`."""

    languages: int
    expertise: int
    certifications: int
    max_concurrent: int
    active_jobs: int
    available: bool
    completed: int
    missed_deadlines: int
    disputes_lost: int


@dataclass(frozen=True)
class Round:
    """`ArbitrationPool.roundOf`: one round of a dispute."""

    fee: int
    panel_size: int
    votes: tuple[int, int, int]
    draw_by: int
    commit_end: int
    reveal_end: int
    appeal_end: int
    panel: tuple[str, ...]
