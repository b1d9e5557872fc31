"""Where candidates come from: the indexer's read model, cached as one pool, updated from its change log."""

from collections.abc import Mapping
from dataclasses import dataclass

from indexer.queries import ReadModel

from .model import Signals
from .pool import Pool

BATCH = 500  # addresses per IN (...) list


@dataclass(frozen=True)
class Gone:
    """A worker whose row the indexer removed (a reorg undid its registration): never eligible."""

    address: str
    languages: int = 0
    expertise: int = 0
    certifications: int = 0
    max_concurrent: int = 0
    active_jobs: int = 0
    available: bool = False
    completed: int = 0
    missed_deadlines: int = 0
    disputes_lost: int = 0


class LivePool:
    """Every registered worker as the indexer last saw them, loaded once and then only what changed.

    The indexer appends each worker it writes to `worker_changes`; each call reads the addresses
    written since the last seq seen and reloads just those rows, so ranking a job costs a small query
    and the numpy work, not 5,000 records. Unavailable and busy workers are kept: the pool's hard
    constraints drop them, and `why_nobody` needs them to say "every speaker is at capacity".
    """

    def __init__(self, read_model: ReadModel) -> None:
        self.read_model = read_model
        self._pool: Pool | None = None
        self._at: str | None = None  # the address logged at the pool's version: the log's fingerprint

    def pool(self, signals: Mapping[str, Signals] | None = None) -> Pool:
        """The pool, brought up to the indexer's last write, with `signals`; `pool.version` is that seq."""
        if self._pool is not None:
            log = self.read_model.worker_changes(self._pool.version or 0)
            if log.at != self._at or log.last < (self._pool.version or 0):
                self._pool = None  # another log than the one read before: the database was rebuilt
            elif log.addresses:
                found = {
                    w.address: w
                    for start in range(0, len(log.addresses), BATCH)
                    for w in self.read_model.workers(addresses=log.addresses[start : start + BATCH])
                }
                self._pool.update([found.get(a, Gone(a)) for a in log.addresses])
        if self._pool is None:
            log = self.read_model.worker_changes(2**62)  # the log first: later writes are read again
            self._pool = Pool(self.read_model.workers())
        self._pool.version, self._at = log.last, log.at_last
        self._pool.resignal(signals or {})
        return self._pool
