"""The daemon's pass: follow the pool, notice seats, commit and reveal my votes, keep, follow transactions.

The loop around it (retries, health, signals) is the runtime's Daemon; this is its Service.
"""

import logging
import threading
import time

from sqlalchemy import Engine, select, update

from protocol_core.arbitration import commitment
from runtime.chain import Chain
from runtime.cursor import LogCursor
from runtime.daemon import Progress
from runtime.db import transaction
from runtime.sender import Call, Sender
from runtime.tracking import Tracker

from .duties import SeatState, Step, next_step
from .events import PoolEvent
from .keeper import Keeper
from .metrics import ArbitratorMetrics
from .notices import Notifier
from .pool import PoolReader, calldata
from .tables import seats, votes
from .votes import Purpose, VoteStep, claim
from .votes_file import VotesFile

log = logging.getLogger(__name__)
GAS_MARGIN = 50_000  # over the dry run's estimate
STANDING_EVERY = 20  # passes between two reads of my stake


class Watcher:
    """Keeps my seats voted: exactly one commit and one reveal per seat, surviving any crash."""

    def __init__(
        self,
        chain: Chain,
        cursor: LogCursor[PoolEvent],
        sender: Sender,
        tracker: Tracker,
        engine: Engine,
        pool: PoolReader,
        metrics: ArbitratorMetrics,
        notifier: Notifier,
        keeper: Keeper | None,
        votes_file: VotesFile | None,
    ) -> None:
        self._chain, self._cursor, self._sender, self._tracker = chain, cursor, sender, tracker
        self._engine, self._pool, self._metrics, self._notifier = engine, pool, metrics, notifier
        self._keeper, self._votes_file = keeper, votes_file
        self._due_since: dict[tuple[int, int], float] = {}  # seat -> when its reveal was first found due
        self._reveals: dict[int, tuple[int, int]] = {}  # nonce -> seat, for the latency
        self._passes = 0
        self._warned: list[str] = []

    @property
    def me(self) -> str:
        """The arbitrator's address."""
        return self._sender.address

    def start(self) -> None:
        """Checks that the database is this deployment's and this key's, and resumes."""
        chain_id = self._chain.chain_id()
        self._cursor.bind(chain_id, self.me)
        self._sender.start(chain_id)  # re-broadcasts what a killed run signed and persisted
        log.info("arbitrator started", extra={"arbitrator": self.me, "chain_id": chain_id})

    def run_once(self) -> Progress:
        """One pass; busy when anything happened."""
        head = max(self._chain.head(), self._cursor.position())
        new = self._cursor.poll(head)
        self._metrics.seats.inc(new)
        given = self._votes_file.load(self._engine) if self._votes_file is not None else 0
        block = self._chain.block(head)
        now = block.timestamp if block is not None else int(time.time())
        self._notifier.notify_new(self._engine)
        sent = self._vote(head, now)
        if self._keeper is not None:
            sent += self._keeper.run(head)
        mined = self._tracker.tick(head)
        for done in mined:
            if done.nonce in self._reveals and done.succeeded:
                seat = self._reveals.pop(done.nonce)
                self._metrics.reveal_latency_seconds.observe(
                    time.time() - self._due_since.pop(seat, time.time())
                )
        self._check_standing()
        ready, detail = self._metrics.position(head, self._cursor.position())
        problem = self._tracker.problem()
        if problem:
            ready, detail = False, f"sender stuck: {problem}"
        return Progress(busy=bool(new or given or sent or mined), ready=ready, detail=detail)

    def idle(self, stop: threading.Event, seconds: float) -> None:
        """Waits `seconds`."""
        stop.wait(seconds)

    def close(self) -> None:
        """Nothing to release."""

    def _vote(self, head: int, now: int) -> int:
        """Sends every commit and reveal that is due, after a dry run."""
        with self._engine.connect() as db:
            rows = db.execute(
                select(seats, votes.c.choice, votes.c.salt, votes.c.commit_state, votes.c.reveal_state)
                .outerjoin(
                    votes, (votes.c.dispute_id == seats.c.dispute_id) & (votes.c.round == seats.c.round)
                )
                .where(seats.c.revealed_seen.is_(False))
                .where(seats.c.closed.is_(False))
            ).all()
        calls: list[Call[Purpose]] = []
        for row in rows:
            state = SeatState(
                row.commit_end,
                row.reveal_end,
                row.commit_state,
                row.reveal_state,
                row.committed_seen,
                row.revealed_seen,
            )
            step, seat = next_step(state, now), (row.dispute_id, row.round)
            if step in (Step.MISSED_COMMIT, Step.MISSED_REVEAL):
                self._missed(seat, step, row.commit_state)
            elif step is Step.COMMIT:
                vote = commitment(row.dispute_id, row.round, self.me, row.choice, bytes.fromhex(row.salt[2:]))
                calls.append(self._call(calldata("commit", row.dispute_id, vote), VoteStep(*seat, "commit")))
            elif step is Step.REVEAL:
                self._due_since.setdefault(seat, time.time())
                data = calldata("reveal", row.dispute_id, row.choice, bytes.fromhex(row.salt[2:]))
                calls.append(self._call(data, VoteStep(*seat, "reveal")))
        sendable = self._dry_run(calls)
        sent = self._sender.send(sendable, head, claim)
        for done in sent:
            purpose = done.purpose
            if isinstance(purpose, VoteStep):
                self._metrics.votes_sent.labels(purpose.step).inc()
                log.info(
                    "vote %s sent",
                    purpose.step,
                    extra={"dispute_id": purpose.dispute_id, "round": purpose.round, "nonce": done.nonce},
                )
                if purpose.step == "reveal":
                    self._reveals[done.nonce] = (purpose.dispute_id, purpose.round)
        return len(sent)

    def _call(self, data: bytes, purpose: Purpose) -> Call[Purpose]:
        return Call(self._pool.address, data, 0, purpose, time.time())

    def _dry_run(self, calls: list[Call[Purpose]]) -> list[Call[Purpose]]:
        """The calls the pool would accept now, with their gas; refusals are logged and left for later."""
        answers = self._pool.dry_runs(self.me, [call.data for call in calls])
        sendable = []
        for call, answer in zip(calls, answers, strict=True):
            if isinstance(answer, int):
                sendable.append(Call(call.to, call.data, answer + GAS_MARGIN, call.purpose, call.seen_at))
            else:
                log.warning("the pool refuses %s now: %s", call.purpose, answer)
        return sendable

    def _missed(self, seat: tuple[int, int], step: Step, commit_state: str | None) -> None:
        label = "commit" if step is Step.MISSED_COMMIT else "reveal"
        with transaction(self._engine) as db:
            changed = db.execute(
                update(votes)
                .where(votes.c.dispute_id == seat[0])
                .where(votes.c.round == seat[1])
                .where(votes.c[f"{label}_state"] == "waiting")
                .values({f"{label}_state": "failed", "detail": f"the {label} phase ended first"})
            ).rowcount
            db.execute(
                update(seats)
                .where(seats.c.dispute_id == seat[0])
                .where(seats.c.round == seat[1])
                .values(closed=True)
            )
        if changed or commit_state is None:
            self._metrics.votes_missed.labels(label).inc()
            log.error("missed the %s phase of dispute %s round %s: the seat's lock is lost", label, *seat)

    def _check_standing(self) -> None:
        self._passes += 1
        if self._passes % STANDING_EVERY != 1:
            return
        standing = self._pool.standing(self.me)
        self._metrics.free_stake.set(standing.free)
        warnings = standing.warnings()
        for warning in warnings:
            if warning not in self._warned:
                log.warning(warning, extra={"arbitrator": self.me})
        self._warned = warnings
