"""One nonce sequence for the key whoever sends: `arbitrator watch` and a CLI command (`vote --direct`,
`stake`, `reveal`...) each take the database's send lock, then continue after the highest nonce the
database holds, so the two never sign the same nonce. The lock dies with its process (kill -9 too)."""

import fcntl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine, func, select, text

from runtime.chain import Chain
from runtime.metrics import RuntimeMetrics
from runtime.sender import Call, Claim, FeePolicy, Sender, Sent
from runtime.tables import transactions

P = TypeVar("P")
ADVISORY_KEY = 0x617262_6E6F6E6365  # pg_advisory_lock key of the arbitrator's send lock ("arb nonce")


class SendLock:
    """A lock shared by every process on one database: flock on a file beside SQLite, an advisory lock
    on PostgreSQL (both released by the operating system or the server when the holder dies)."""

    def __init__(self, engine: Engine) -> None:
        self._engine, self._threads = engine, threading.Lock()
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._file = Path(f"{database}.send-lock") if database and database != ":memory:" else None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Holds the lock for the block."""
        with self._threads:
            if self._engine.dialect.name == "postgresql":
                with self._engine.connect() as db:
                    db.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
                    try:
                        yield
                    finally:
                        db.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                        db.commit()
            elif self._file is not None:
                with self._file.open("a") as handle:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                    try:
                        yield
                    finally:
                        fcntl.flock(handle, fcntl.LOCK_UN)
            else:
                yield  # an in-memory database is one process's own


class LockedSender(Sender):
    """The runtime's sender under the database's send lock, resuming after the database's last nonce."""

    def __init__(
        self, chain: Chain, engine: Engine, account: LocalAccount, metrics: RuntimeMetrics, fees: FeePolicy
    ) -> None:
        super().__init__(chain, engine, account, metrics, fees)
        self._db, self._lock = engine, SendLock(engine)

    def send(self, calls: Sequence[Call[P]], head: int, claim: Claim[P] | None = None) -> list[Sent[P]]:
        """Sends like the runtime's sender; another process's nonces are never signed again."""
        if not calls:
            return []
        with self._lock.held():
            with self._db.connect() as db:
                highest = db.execute(select(func.max(transactions.c.nonce))).scalar()
            if highest is not None and highest + 1 > self._next_nonce:
                self._next_nonce = highest + 1  # the other process's sends, persisted before broadcast
            return super().send(calls, head, claim)
