"""The records matching works on: a worker as the registry holds it, a job's needs, off-chain signals."""

from dataclasses import dataclass, field
from typing import Protocol

from protocol_core.languages import LANGUAGES


class WorkerRecord(Protocol):
    """A worker's registry profile; `indexer.queries.Worker` is one, any object with these fields is."""

    @property
    def address(self) -> str: ...

    @property
    def languages(self) -> int: ...

    @property
    def expertise(self) -> int: ...

    @property
    def certifications(self) -> int: ...

    @property
    def max_concurrent(self) -> int: ...

    @property
    def active_jobs(self) -> int: ...

    @property
    def available(self) -> bool: ...

    @property
    def completed(self) -> int: ...

    @property
    def missed_deadlines(self) -> int: ...

    @property
    def disputes_lost(self) -> int: ...


@dataclass(frozen=True)
class JobNeed:
    """What a job asks of its worker: the terms' Requirements and offeredTo, and the customer's time zone."""

    language: int  # bit index in the protocol's language table
    expertise: int = 0  # every bit is required
    certifications: int = 0  # every bit is required
    offered_to: str | None = None  # the only worker the escrow lets accept; None = anyone eligible
    customer_utc_offset_h: float | None = None  # where known

    @property
    def language_code(self) -> str:
        """The ISO code of the language, or its bit when outside the table."""
        return LANGUAGES[self.language] if self.language < len(LANGUAGES) else f"bit {self.language}"


@dataclass(frozen=True)
class Signals:
    """What the desk knows of a worker off chain: how fast it answered recent offers, its time zone."""

    response_s: float | None = None  # median seconds to accept recent offers
    utc_offset_h: float | None = None


@dataclass(frozen=True)
class Candidate:
    """One eligible worker for a job, its score and the reasons for it."""

    address: str
    score: float
    reasons: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Ranking:
    """Eligible workers best first; when there is none, `why` says which requirement nobody meets."""

    candidates: tuple[Candidate, ...]
    why: str | None = None
